//! lexpro — an embedded rules-plus-model reasoning engine for Chinese criminal law.
//!
//! The pipeline, each stage a module with plain data between them:
//!
//! 1. [`dsl`] — parse the statute language (`grammar/lexpro.pest`) into a typed AST with spans;
//! 2. [`kb`] — check and compile the AST into the knowledge base and the rule graph;
//!    [`store`] — persist it (sled, format-versioned, atomic rebuild);
//! 3. [`extract`] — read a fact description into element values with evidence;
//! 4. [`retrieve`] — candidate charges, articles, interpretations; [`cases`] — similar decided cases;
//! 5. [`decide`] — the charges and articles of the judgment;
//! 6. [`sentence`] — band, guideline computation, statutory bounds;
//! 7. [`sample`] — constrained token sampling (CPU reference, CUDA kernels).
//!
//! [`Engine`] runs the pipeline; [`contract`] holds the stable output types.

pub mod cases;
pub mod contract;
pub mod decide;
pub mod dsl;
pub mod extract;
pub mod kb;
pub mod retrieve;
pub mod sample;
pub mod sentence;
pub mod store;
pub mod engine;
pub mod kbtest;

pub use contract::{CaseInput, Judgment};
pub use engine::{Analysis, Engine, EngineError};
