//! The compiled knowledge base and the rule graph.

pub mod eval;
pub mod model;
