//! A weighted split that keeps each conversation on one side: weighted rendezvous (highest random
//! weight) hashing. Every choice scores the conversation key with its own hash, scaled by its weight
//! (`−weight / ln u`, `u` uniform in (0, 1) from the hash); the highest score wins. So:
//!
//! - the same key always gets the same choice, on every replica and after every restart (the hash
//!   is SHA-256 and SplitMix64, never a per-process seed) — a conversation never hops models mid-task,
//!   which would lose its prompt cache and hand a tool loop to a model that did not start it;
//! - over many keys each choice gets its weight's share;
//! - changing one weight moves only the conversations that must move: raising a choice's weight
//!   takes conversations to it from the others and none between the others; adding a choice takes
//!   only its share. A modulo bucket would reshuffle almost everyone.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub model: String,
    pub weight: u32,
    /// Per-choice hash seed, from the model name: a choice keeps its conversations when others change.
    seed: u64,
}

impl Choice {
    pub fn new(model: &str, weight: u32) -> Choice {
        Choice {
            model: model.to_string(),
            weight,
            seed: digest64(model.as_bytes()),
        }
    }
}

/// The choices of a split, at least one with a weight above zero (config validation sees to it).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub choices: Vec<Choice>,
}

impl Split {
    pub fn total_weight(&self) -> u64 {
        self.choices.iter().map(|c| u64::from(c.weight)).sum()
    }

    /// The choice for conversation `key`.
    pub fn choose(&self, key: &[u8]) -> &Choice {
        let key = digest64(key);
        let mut best: Option<(&Choice, f64)> = None;
        for choice in self.choices.iter().filter(|c| c.weight > 0) {
            let u = unit(splitmix64(key ^ choice.seed));
            let score = -f64::from(choice.weight) / u.ln();
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((choice, score));
            }
        }
        match best {
            Some((choice, _)) => choice,
            // Unreachable after validation (some weight > 0); the first choice is still an answer.
            None => &self.choices[0],
        }
    }
}

/// The first eight bytes of SHA-256: stable across platforms, Rust versions and processes.
fn digest64(bytes: &[u8]) -> u64 {
    let d = Sha256::digest(bytes);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// SplitMix64's finaliser: a cheap, well-mixed function of the key and the choice.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash mapped into the open interval (0, 1), never 0 or 1 (whose logarithms would not do).
fn unit(h: u64) -> f64 {
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(weights: &[(&str, u32)]) -> Split {
        Split {
            choices: weights.iter().map(|(m, w)| Choice::new(m, *w)).collect(),
        }
    }

    fn shares(s: &Split, n: usize) -> Vec<f64> {
        let mut counts = vec![0usize; s.choices.len()];
        for i in 0..n {
            let chosen = s.choose(format!("conversation-{i}").as_bytes());
            let at = s.choices.iter().position(|c| c == chosen).unwrap();
            counts[at] += 1;
        }
        counts
            .iter()
            .map(|c| *c as f64 * 100.0 / n as f64)
            .collect()
    }

    #[test]
    fn ten_thousand_conversations_land_within_two_points_of_the_weights() {
        for weights in [
            &[("glm", 60), ("qwen", 20), ("claude", 20)][..],
            &[("a", 1), ("b", 1)],
            &[("a", 90), ("b", 5), ("c", 5)],
            &[("a", 3), ("b", 0), ("c", 7)],
        ] {
            let s = split(weights);
            let total: u32 = weights.iter().map(|(_, w)| w).sum();
            for ((name, w), got) in weights.iter().zip(shares(&s, 10_000)) {
                let want = f64::from(*w) * 100.0 / f64::from(total);
                assert!(
                    (got - want).abs() <= 2.0,
                    "{name}: {got:.2}% for weight {want:.2}% in {weights:?}"
                );
            }
        }
    }

    #[test]
    fn the_same_conversation_always_gets_the_same_choice() {
        let s = split(&[("glm", 60), ("qwen", 20), ("claude", 20)]);
        let again = split(&[("glm", 60), ("qwen", 20), ("claude", 20)]);
        for i in 0..10_000 {
            let key = format!("session-{i}");
            assert_eq!(s.choose(key.as_bytes()), again.choose(key.as_bytes()));
            assert_eq!(s.choose(key.as_bytes()), s.choose(key.as_bytes()));
        }
        // Fixed values: a change in the hash would silently move every live conversation.
        let picks: Vec<&str> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|k| s.choose(k.as_bytes()).model.as_str())
            .collect();
        assert_eq!(picks, ["glm", "claude", "glm", "claude", "glm", "claude"]);
    }

    #[test]
    fn a_small_weight_change_moves_only_the_conversations_that_must_move() {
        let before = split(&[("glm", 60), ("qwen", 20), ("claude", 20)]);
        let after = split(&[("glm", 60), ("qwen", 25), ("claude", 20)]);
        let (mut moved, mut elsewhere) = (0, 0);
        for i in 0..10_000 {
            let key = format!("c{i}");
            let (a, b) = (
                &before.choose(key.as_bytes()).model,
                &after.choose(key.as_bytes()).model,
            );
            if a != b {
                moved += 1;
                if b != "qwen" {
                    elsewhere += 1;
                }
            }
        }
        // qwen's share goes from 20 % to 25/105 ≈ 23.8 %: about 3.8 % must move; a modulo bucket
        // would have moved most conversations.
        assert!((300..=460).contains(&moved), "{moved} of 10000 moved");
        assert_eq!(
            elsewhere, 0,
            "only qwen gained weight, so every move is to qwen"
        );
        // A new choice takes its share, from everyone.
        let grown = split(&[("glm", 60), ("qwen", 20), ("claude", 20), ("kimi", 10)]);
        let moved = (0..10_000)
            .filter(|i| {
                before.choose(format!("c{i}").as_bytes())
                    != grown.choose(format!("c{i}").as_bytes())
            })
            .count();
        assert!((800..=1000).contains(&moved), "{moved}");
    }
}
