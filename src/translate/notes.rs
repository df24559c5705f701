//! What a translation dropped or degraded, as stable machine-readable names, so the gateway can report them
//! in a response header (`x-switchyard-dropped: thinking,cache_control`) and in logs instead of silently
//! losing a feature the caller asked for. The names are part of the documented interface; see `mod.rs`.

/// The report that comes with every translated request or response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// Features the caller sent that the target cannot express and that were removed.
    pub dropped: Vec<&'static str>,
    /// Features that were kept in a lossy or rearranged form.
    pub degraded: Vec<&'static str>,
}

impl Notes {
    /// Records a dropped feature once.
    pub fn drop(&mut self, name: &'static str) {
        if !self.dropped.contains(&name) {
            self.dropped.push(name);
        }
    }

    /// Records a degraded feature once.
    pub fn degrade(&mut self, name: &'static str) {
        if !self.degraded.contains(&name) {
            self.degraded.push(name);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.dropped.is_empty() && self.degraded.is_empty()
    }

    /// `dropped=a,b; degraded=c`, or an empty string when nothing was lost.
    pub fn header_value(&self) -> String {
        let mut parts = Vec::new();
        if !self.dropped.is_empty() {
            parts.push(format!("dropped={}", self.dropped.join(",")));
        }
        if !self.degraded.is_empty() {
            parts.push(format!("degraded={}", self.degraded.join(",")));
        }
        parts.join("; ")
    }
}

/// A translated body ready to send, with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub body: Vec<u8>,
    pub notes: Notes,
}
