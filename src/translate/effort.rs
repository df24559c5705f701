//! Reasoning effort ↔ thinking budget. Anthropic expresses reasoning as `thinking.budget_tokens` (or
//! `adaptive` plus `output_config.effort`); OpenAI-compatible servers take `reasoning_effort`
//! (low/medium/high). The thresholds below are the documented mapping:
//!
//! | Anthropic `budget_tokens` | `reasoning_effort` |   | `reasoning_effort` | Anthropic `budget_tokens` |
//! |---------------------------|--------------------|---|--------------------|---------------------------|
//! | < 4096                    | low                |   | minimal, none      | thinking off              |
//! | 4096 ..= 16383            | medium             |   | low                | 2048                      |
//! | ≥ 16384                   | high               |   | medium             | 8192                      |
//! | effort low/medium/high    | same               |   | high               | 24576                     |
//! | effort max/xhigh          | high               |   | xhigh, max         | 32768                     |

/// An OpenAI `reasoning_effort` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Low,
    Medium,
    High,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
        }
    }

    /// From an Anthropic thinking budget.
    pub fn from_budget(budget_tokens: u64) -> Effort {
        if budget_tokens < 4096 {
            Effort::Low
        } else if budget_tokens < 16384 {
            Effort::Medium
        } else {
            Effort::High
        }
    }

    /// From Anthropic's `output_config.effort`; unknown words give `None`.
    pub fn from_anthropic(word: &str) -> Option<Effort> {
        match word {
            "low" => Some(Effort::Low),
            "medium" => Some(Effort::Medium),
            "high" | "max" | "xhigh" => Some(Effort::High),
            _ => None,
        }
    }
}

/// The Anthropic thinking budget for an OpenAI `reasoning_effort`; `None` means thinking off.
pub fn budget_for_reasoning_effort(word: &str) -> Option<u64> {
    match word {
        "low" => Some(2048),
        "medium" => Some(8192),
        "high" => Some(24576),
        "xhigh" | "max" => Some(32768),
        _ => None,
    }
}
