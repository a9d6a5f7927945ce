//! The pure parts of the `imts` command line, as a library so they can be tested and fuzzed:
//! parsing `KEY=VALUE` arguments and combining them with a `--json` object.

pub mod params;
