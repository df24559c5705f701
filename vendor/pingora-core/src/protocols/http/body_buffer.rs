// Copyright 2026 Cloudflare, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};

/// A buffer with size limit. When the total amount of data written to the buffer is below the limit
/// all the data will be held in the buffer. Otherwise, the buffer will report to be truncated.
///
/// The buffer keeps the `Bytes` it is given (a reference count each, no copy) and joins them only
/// when [`FixedBuffer::get_buffer`] is first asked for them; the joined copy is kept, so replaying
/// the buffer on every retry costs a reference count, and a body that arrived in one piece is
/// never copied at all.
pub struct FixedBuffer {
    chunks: Vec<Bytes>,
    len: usize,
    /// `chunks` joined, made on the first `get_buffer` after a write.
    joined: OnceLock<Bytes>,
    capacity: usize,
    truncated: bool,
}

impl FixedBuffer {
    pub fn new(capacity: usize) -> Self {
        FixedBuffer {
            chunks: Vec::new(),
            len: 0,
            joined: OnceLock::new(),
            capacity,
            truncated: false,
        }
    }

    pub fn write_to_buffer(&mut self, data: &Bytes) {
        if self.truncated {
            return;
        }

        if self.len + data.len() <= self.capacity {
            if !data.is_empty() {
                self.chunks.push(data.clone());
                self.len += data.len();
                self.joined = OnceLock::new();
            }
        } else {
            // Buffered data is no longer usable for a retry, so release it.
            self.chunks = Vec::new();
            self.len = 0;
            self.joined = OnceLock::new();
            self.truncated = true;
        }
    }

    pub fn clear(&mut self) {
        self.truncated = false;
        self.chunks.clear();
        self.len = 0;
        self.joined = OnceLock::new();
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
    pub fn get_buffer(&self) -> Option<Bytes> {
        // TODO: return None if truncated?
        match self.chunks.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            chunks => Some(
                self.joined
                    .get_or_init(|| {
                        let mut joined = BytesMut::with_capacity(self.len);
                        for chunk in chunks {
                            joined.extend_from_slice(chunk);
                        }
                        joined.freeze()
                    })
                    .clone(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_storage_when_truncated() {
        let mut buffer = FixedBuffer::new(4);
        buffer.write_to_buffer(&Bytes::from_static(b"1234"));
        assert_eq!(buffer.chunks.len(), 1);

        buffer.write_to_buffer(&Bytes::from_static(b"5"));

        assert!(buffer.is_truncated());
        assert_eq!(buffer.chunks.capacity(), 0);
        assert!(buffer.get_buffer().is_none());
    }

    #[test]
    fn one_chunk_is_returned_without_a_copy() {
        let mut buffer = FixedBuffer::new(16);
        let data = Bytes::from_static(b"hello");
        buffer.write_to_buffer(&data);
        let got = buffer.get_buffer().unwrap();
        assert_eq!(got, data);
        assert_eq!(got.as_ptr(), data.as_ptr());
    }

    #[test]
    fn chunks_are_joined_once_and_again_after_a_write() {
        let mut buffer = FixedBuffer::new(16);
        buffer.write_to_buffer(&Bytes::from_static(b"ab"));
        buffer.write_to_buffer(&Bytes::new());
        buffer.write_to_buffer(&Bytes::from_static(b"cd"));
        let first = buffer.get_buffer().unwrap();
        assert_eq!(first, Bytes::from_static(b"abcd"));
        // The replay of a retry gets the same joined bytes, not a new copy.
        assert_eq!(buffer.get_buffer().unwrap().as_ptr(), first.as_ptr());
        buffer.write_to_buffer(&Bytes::from_static(b"e"));
        assert_eq!(buffer.get_buffer().unwrap(), Bytes::from_static(b"abcde"));
        buffer.clear();
        assert!(buffer.is_empty());
        assert!(buffer.get_buffer().is_none());
    }
}
