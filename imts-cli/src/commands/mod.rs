//! One module per subcommand.

pub mod audit;
pub mod call;
pub mod crypt;
pub mod demo;
pub mod events;
pub mod inbox;
pub mod journal;
pub mod listen;
pub mod reconcile;
pub mod sandbox;
pub mod scenario;
pub mod send;
pub mod sign;
