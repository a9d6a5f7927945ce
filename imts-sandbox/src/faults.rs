//! Fault injection: `--fault ENDPOINT:KIND:RATE`, drawn from one seeded generator.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::{FaultKind, FaultRule};

/// The rules and the generator that decides them.
#[derive(Debug)]
pub struct Faults {
    rules: Vec<FaultRule>,
    draws: Mutex<Draws>,
}

#[derive(Debug)]
struct Draws {
    rng: StdRng,
    fired: Vec<u64>,
}

impl Faults {
    /// Rules drawn from a generator seeded with `seed`.
    #[must_use]
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        let fired = vec![0; rules.len()];
        Self {
            rules,
            draws: Mutex::new(Draws {
                rng: StdRng::seed_from_u64(seed),
                fired,
            }),
        }
    }

    /// The fault for a request to `endpoint` (the path after the prefix), if one fires. Rules are
    /// tried in order; the first that fires wins.
    pub fn draw(&self, endpoint: &str) -> Option<FaultKind> {
        if self.rules.is_empty() {
            // The common case: no lock taken, no number drawn.
            return None;
        }
        let mut draws = self
            .draws
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.endpoint != "*" && rule.endpoint != endpoint {
                continue;
            }
            if rule.times.is_some_and(|times| draws.fired[index] >= times) {
                continue;
            }
            if draws.rng.random::<f64>() < rule.rate {
                draws.fired[index] += 1;
                return Some(rule.kind);
            }
        }
        None
    }
}

/// A stable name of a fault kind, for the stats.
#[must_use]
pub fn kind_name(kind: FaultKind) -> String {
    match kind {
        FaultKind::Unavailable => "503".into(),
        FaultKind::Delay(d) => format!("delay-{}", d.as_millis()),
        FaultKind::DropBefore => "drop-before".into(),
        FaultKind::DropAfter => "drop-after".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_draws_repeat_and_respect_rates() {
        let rules = vec![
            FaultRule::parse("create:503:0.5").unwrap(),
            FaultRule::parse("*:drop-after:0").unwrap(),
        ];
        let a: Vec<_> = {
            let f = Faults::new(rules.clone(), 9);
            (0..100).map(|_| f.draw("create")).collect()
        };
        let b: Vec<_> = {
            let f = Faults::new(rules.clone(), 9);
            (0..100).map(|_| f.draw("create")).collect()
        };
        assert_eq!(a, b);
        let fired = a.iter().filter(|k| k.is_some()).count();
        assert!((30..=70).contains(&fired), "{fired}");
        let f = Faults::new(rules, 9);
        assert!((0..100).all(|_| f.draw("fees").is_none()));
    }
}
