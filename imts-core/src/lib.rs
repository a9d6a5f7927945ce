//! The sans-IO core of Freedom Pay's IMTS partner Transfer API.
#![forbid(unsafe_code)]

pub mod signature;
