//! One module per subcommand.

pub mod crypt;
pub mod sign;
