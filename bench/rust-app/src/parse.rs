use crate::model::Entry;
use regex::Regex;

pub const SAMPLE: &str = "\
INFO  [main]    12ms  starting
INFO  [greet]    3ms  Hello, world!
WARN  [mathx]   41ms  slow path taken
INFO  [strutil]  2ms  reversed
ERROR [logo]     7ms  bad magic
INFO  [main]     1ms  done
";

pub fn parse_log(text: &str) -> Vec<Entry> {
    let re = Regex::new(r"^(?P<level>[A-Z]+)\s+\[(?P<unit>[a-z]+)\]\s+(?P<ms>\d+)ms\s+(?P<msg>.*)$")
        .expect("valid regex");
    text.lines()
        .filter_map(|line| re.captures(line))
        .map(|c| Entry {
            level: c["level"].to_string(),
            unit: c["unit"].to_string(),
            millis: c["ms"].parse().unwrap_or(0),
            message: c["msg"].to_string(),
        })
        .collect()
}
