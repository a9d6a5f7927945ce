//! Output format of commands that talk to the API.

/// Human lines or JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One readable line per step.
    Human,
    /// One JSON object per line.
    Json,
}
