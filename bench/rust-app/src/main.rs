//! Reads a tiny log, parses it with a regex, aggregates, prints JSON.
mod model;
mod parse;
mod report;

fn main() {
    let input = parse::SAMPLE;
    let entries = parse::parse_log(input);
    let summary = model::Summary::from_entries(&entries);
    println!("{}", report::render(&summary));
}
