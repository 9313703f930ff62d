//! The rule graph: typed nodes (article, charge, band, element, threshold, circumstance, interpretation)
//! and typed edges, built from the compiled knowledge base. Stages query it instead of scanning lists.
//!
//! Architecture invariant: the graph is derived data — it is rebuilt from `KnowledgeBase` on load and never
//! stored, so it can never disagree with the knowledge it was built from.

use super::eval::Facts;
use super::model::{Cond, Date, KnowledgeBase, Operand};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::HashMap;

/// A node of the rule graph. Indexes point into the `KnowledgeBase` lists/maps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// An article by canonical number.
    Article(String),
    /// A charge by index in `kb.charges`.
    Charge(usize),
    /// A band: (charge index, band number).
    Band(usize, u32),
    /// An element by name.
    Element(String),
    /// A threshold by name.
    Threshold(String),
    /// A circumstance by index in `kb.circumstances`.
    Circumstance(usize),
    /// An interpretation by id.
    Interpretation(String),
}

/// Typed edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    /// charge → article that defines it.
    DefinedBy,
    /// charge → band.
    HasBand,
    /// band / circumstance / conversion condition → element it reads.
    Reads,
    /// band → threshold it compares with.
    Compares,
    /// band → band whose penalty it borrows (`penalty like`).
    BorrowsPenalty,
    /// band → band it overrides.
    Overrides,
    /// charge → charge it converts into (转化犯).
    ConvertsTo,
    /// charge → interpretation that applies.
    InterpretedBy,
    /// circumstance → article that is its statutory basis.
    BasedOn,
    /// circumstance → circumstance it displaces.
    Displaces,
}

/// The compiled rule graph with lookup tables.
#[derive(Debug, Clone, Default)]
pub struct RuleGraph {
    /// The graph itself.
    pub graph: DiGraph<Node, Edge>,
    index: HashMap<Node, NodeIndex>,
    charge_by_name: HashMap<String, usize>,
}

impl RuleGraph {
    /// Builds the graph of a knowledge base.
    pub fn build(kb: &KnowledgeBase) -> RuleGraph {
        let mut g = RuleGraph::default();
        for n in kb.articles.keys() {
            g.node(Node::Article(n.clone()));
        }
        for n in kb.elements.keys() {
            g.node(Node::Element(n.clone()));
        }
        for n in kb.thresholds.keys() {
            g.node(Node::Threshold(n.clone()));
        }
        for n in kb.interpretations.keys() {
            g.node(Node::Interpretation(n.clone()));
        }
        for (i, c) in kb.charges.iter().enumerate() {
            g.charge_by_name.insert(c.name.clone(), i);
            for a in &c.aliases {
                g.charge_by_name.entry(a.clone()).or_insert(i);
            }
        }
        for (i, c) in kb.charges.iter().enumerate() {
            let cn = g.node(Node::Charge(i));
            for a in &c.articles {
                if let Some(an) = g.index.get(&Node::Article(a.clone())).copied() {
                    g.graph.add_edge(cn, an, Edge::DefinedBy);
                }
            }
            for it in &c.interpretations {
                if let Some(n) = g.index.get(&Node::Interpretation(it.clone())).copied() {
                    g.graph.add_edge(cn, n, Edge::InterpretedBy);
                }
            }
            for cv in &c.converts {
                if let Some(&j) = g.charge_by_name.get(&cv.to) {
                    let tn = g.node(Node::Charge(j));
                    g.graph.add_edge(cn, tn, Edge::ConvertsTo);
                }
                g.link_cond(cn, &cv.when);
            }
            for b in &c.bands {
                let bn = g.node(Node::Band(i, b.number));
                g.graph.add_edge(cn, bn, Edge::HasBand);
                for cond in b.when.iter().chain(b.unless.iter()) {
                    g.link_cond(bn, cond);
                }
                for inc in &b.increments {
                    if let Some(en) = g.index.get(&Node::Element(inc.element.clone())).copied() {
                        g.graph.add_edge(bn, en, Edge::Reads);
                    }
                }
            }
        }
        for (i, c) in kb.charges.iter().enumerate() {
            for b in &c.bands {
                let bn = g.node(Node::Band(i, b.number));
                for o in &b.overrides {
                    let on = g.node(Node::Band(i, *o));
                    g.graph.add_edge(bn, on, Edge::Overrides);
                }
                if let Some((ch, n)) = &b.penalty_from {
                    if let Some(&j) = g.charge_by_name.get(ch) {
                        let tn = g.node(Node::Band(j, *n));
                        g.graph.add_edge(bn, tn, Edge::BorrowsPenalty);
                    }
                }
            }
        }
        let circ_idx: HashMap<&str, usize> = kb.circumstances.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
        for (i, c) in kb.circumstances.iter().enumerate() {
            let n = g.node(Node::Circumstance(i));
            g.link_cond(n, &c.when);
            if let Some(a) = &c.article {
                if let Some(an) = g.index.get(&Node::Article(a.clone())).copied() {
                    g.graph.add_edge(n, an, Edge::BasedOn);
                }
            }
            for o in &c.overrides {
                if let Some(&j) = circ_idx.get(o.as_str()) {
                    let on = g.node(Node::Circumstance(j));
                    g.graph.add_edge(n, on, Edge::Displaces);
                }
            }
        }
        g
    }

    fn node(&mut self, n: Node) -> NodeIndex {
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    fn link_cond(&mut self, from: NodeIndex, c: &Cond) {
        let mut elems = Vec::new();
        let mut thresholds = Vec::new();
        collect_refs(c, &mut elems, &mut thresholds);
        for e in elems {
            if let Some(n) = self.index.get(&Node::Element(e)).copied() {
                self.graph.update_edge(from, n, Edge::Reads);
            }
        }
        for t in thresholds {
            if let Some(n) = self.index.get(&Node::Threshold(t)).copied() {
                self.graph.update_edge(from, n, Edge::Compares);
            }
        }
    }

    fn targets(&self, from: &Node, kind: Edge) -> Vec<&Node> {
        let Some(&i) = self.index.get(from) else { return Vec::new() };
        let mut v: Vec<&Node> = self
            .graph
            .edges_directed(i, Direction::Outgoing)
            .filter(|e| *e.weight() == kind)
            .map(|e| &self.graph[e.target()])
            .collect();
        v.reverse(); // petgraph lists newest edges first
        v
    }

    fn sources(&self, to: &Node, kind: Edge) -> Vec<&Node> {
        let Some(&i) = self.index.get(to) else { return Vec::new() };
        let mut v: Vec<&Node> = self
            .graph
            .edges_directed(i, Direction::Incoming)
            .filter(|e| *e.weight() == kind)
            .map(|e| &self.graph[e.source()])
            .collect();
        v.reverse();
        v
    }

    /// The charge index for an official name or alias.
    pub fn charge_index(&self, name: &str) -> Option<usize> {
        self.charge_by_name.get(name).copied()
    }

    /// Charges an article defines.
    pub fn charges_of_article(&self, article: &str) -> Vec<usize> {
        self.sources(&Node::Article(article.to_string()), Edge::DefinedBy)
            .into_iter()
            .filter_map(|n| if let Node::Charge(i) = n { Some(*i) } else { None })
            .collect()
    }

    /// Articles defining a charge.
    pub fn articles_of_charge(&self, charge: usize) -> Vec<String> {
        self.targets(&Node::Charge(charge), Edge::DefinedBy)
            .into_iter()
            .filter_map(|n| if let Node::Article(a) = n { Some(a.clone()) } else { None })
            .collect()
    }

    /// Band numbers of a charge.
    pub fn bands_of_charge(&self, charge: usize) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .targets(&Node::Charge(charge), Edge::HasBand)
            .into_iter()
            .filter_map(|n| if let Node::Band(_, b) = n { Some(*b) } else { None })
            .collect();
        v.sort_unstable();
        v
    }

    /// Interpretations that apply to a charge.
    pub fn interpretations_of_charge(&self, charge: usize) -> Vec<String> {
        self.targets(&Node::Charge(charge), Edge::InterpretedBy)
            .into_iter()
            .filter_map(|n| if let Node::Interpretation(a) = n { Some(a.clone()) } else { None })
            .collect()
    }

    /// Elements any band or conversion of a charge reads.
    pub fn elements_of_charge(&self, charge: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for b in self.bands_of_charge(charge) {
            for n in self.targets(&Node::Band(charge, b), Edge::Reads) {
                if let Node::Element(e) = n {
                    if !out.contains(e) {
                        out.push(e.clone());
                    }
                }
            }
        }
        out
    }

    /// Charges a charge converts into.
    pub fn conversions_of_charge(&self, charge: usize) -> Vec<usize> {
        self.targets(&Node::Charge(charge), Edge::ConvertsTo)
            .into_iter()
            .filter_map(|n| if let Node::Charge(i) = n { Some(*i) } else { None })
            .collect()
    }

    /// Circumstances whose condition holds for `facts`, minus those displaced by another that holds.
    pub fn circumstances_applicable(&self, kb: &KnowledgeBase, facts: &Facts) -> Vec<usize> {
        let mut used = Vec::new();
        let holding: Vec<usize> =
            kb.circumstances.iter().enumerate().filter(|(_, c)| facts.eval(&c.when, kb, &mut used)).map(|(i, _)| i).collect();
        holding
            .iter()
            .copied()
            .filter(|i| {
                !self
                    .sources(&Node::Circumstance(*i), Edge::Displaces)
                    .iter()
                    .any(|n| matches!(n, Node::Circumstance(j) if holding.contains(j)))
            })
            .collect()
    }

    /// Number of nodes and edges.
    pub fn size(&self) -> (usize, usize) {
        (self.graph.node_count(), self.graph.edge_count())
    }
}

/// The text of an article in force on a date (None when the article does not exist).
pub fn article_text_on<'k>(kb: &'k KnowledgeBase, article: &str, date: Date) -> Option<&'k str> {
    kb.articles.get(article).map(|a| a.text_on(date))
}

fn collect_refs(c: &Cond, elems: &mut Vec<String>, thresholds: &mut Vec<String>) {
    match c {
        Cond::Flag(e) => elems.push(e.clone()),
        Cond::And(v) | Cond::Or(v) => v.iter().for_each(|c| collect_refs(c, elems, thresholds)),
        Cond::Not(c) => collect_refs(c, elems, thresholds),
        Cond::Cmp(a, _, b) => {
            for o in [a, b] {
                match o {
                    Operand::Element(e) => elems.push(e.clone()),
                    Operand::Threshold(t) => thresholds.push(t.clone()),
                    _ => {}
                }
            }
        }
    }
}
