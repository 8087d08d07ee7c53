use crate::model::Summary;

pub fn render(summary: &Summary) -> String {
    let mut buf = itoa::Buffer::new();
    let total = buf.format(summary.total_millis).to_string();
    let json = serde_json::to_string_pretty(summary).expect("serializable");
    format!("total: {total} ms\n{json}")
}
