//! The README's table of metrics is `imts::telemetry::METRICS`, written out: this test fails when
//! they differ. `IMTS_BLESS=1 cargo test -p imts --test readme_metrics` rewrites the table.

const BEGIN: &str = "<!-- metrics table: generated from imts::telemetry::METRICS -->\n";
const END: &str = "<!-- end of metrics table -->";

fn table() -> String {
    let mut out = String::from("| metric | kind | labels | what it counts |\n|---|---|---|---|\n");
    for metric in imts::telemetry::METRICS {
        let labels = if metric.labels.is_empty() {
            "-".to_owned()
        } else {
            metric
                .labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out += &format!(
            "| `{}` | {} | {labels} | {} |\n",
            metric.name,
            metric.kind.as_str(),
            metric.help.replace('|', "\\|")
        );
    }
    out
}

#[test]
fn the_readme_lists_every_metric_with_its_labels() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("the README has the metrics table's marker")
        + BEGIN.len();
    let end = start + readme[start..].find(END).expect("the table's end marker");
    let expected = table();
    if readme[start..end] != expected {
        if std::env::var_os("IMTS_BLESS").is_some() {
            std::fs::write(
                path,
                format!("{}{expected}{}", &readme[..start], &readme[end..]),
            )
            .unwrap();
            return;
        }
        panic!(
            "the README's metrics table differs from METRICS; rerun with IMTS_BLESS=1 to rewrite it:\n{expected}"
        );
    }
}
