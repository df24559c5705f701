//! The response body type. Real replies are pre-rendered, so a body is either one buffer sent at once, or a list
//! of pre-rendered frames (SSE events, or pieces of a JSON body) sent one after another with an optional pause
//! between them and an optional cut — which is how `x-mock-delay-ms`, `drip:<ms>` and `cut:<n>` are implemented
//! without any per-request task — or nothing at all, forever (`hang_body`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{sleep, Instant, Sleep};

use crate::mock::stats::StreamWatch;

/// Pause between the last frame sent and an abort, so that hyper flushes the frames to the socket first.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(5);

/// A mock response body.
pub(crate) enum MockBody {
    /// One buffer (`None` once sent).
    Full(Option<Bytes>),
    /// Frames sent one by one.
    Frames(Box<Frames>),
    /// Never yields anything; the connection stays open until the client goes away.
    Silent,
}

impl MockBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        MockBody::Full(Some(bytes.into()))
    }

    /// `frames` with `pause` between consecutive frames and, with `cut_after: Some(n)`, an abort after n frames;
    /// `watch` learns whether the body was sent to its end.
    pub(crate) fn frames(frames: Vec<Bytes>, pause: Duration, cut_after: Option<usize>, watch: StreamWatch) -> Self {
        MockBody::Frames(Box::new(Frames {
            frames: frames.into_iter(),
            watch,
            pause,
            cut_after,
            sent: 0,
            timer: None,
            waiting: false,
            cutting: false,
        }))
    }
}

/// The state of a frame-by-frame body.
pub(crate) struct Frames {
    frames: std::vec::IntoIter<Bytes>,
    watch: StreamWatch,
    pause: Duration,
    cut_after: Option<usize>,
    sent: usize,
    timer: Option<Pin<Box<Sleep>>>,
    /// A timer wait is owed before the next step.
    waiting: bool,
    /// The cut point was reached; after the flush pause the body fails.
    cutting: bool,
}

impl Frames {
    fn arm(&mut self, after: Duration) {
        let deadline = Instant::now() + after;
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.timer = Some(Box::pin(sleep(after))),
        }
        self.waiting = true;
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        loop {
            if self.waiting {
                if let Some(timer) = &mut self.timer {
                    ready!(timer.as_mut().poll(cx));
                }
                self.waiting = false;
                if self.cutting {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "mock fault: stream cut",
                    ))));
                }
            }
            if !self.cutting && self.cut_after == Some(self.sent) {
                self.cutting = true;
                self.watch.finish();
                self.arm(FLUSH_BEFORE_CUT);
                continue;
            }
            let Some(frame) = self.frames.next() else {
                self.watch.finish();
                return Poll::Ready(None);
            };
            self.sent += 1;
            if !self.pause.is_zero() && !self.frames.as_slice().is_empty() {
                self.arm(self.pause);
            }
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        match self.get_mut() {
            MockBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Frames(frames) => frames.poll_next(cx),
            MockBody::Silent => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Frames(_) | MockBody::Silent => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::stats::Stats;
    use std::sync::Arc;

    fn watch() -> StreamWatch {
        Arc::new(Stats::default()).watch_stream()
    }

    async fn next(body: &mut MockBody) -> Option<io::Result<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx))
            .await
            .map(|r| r.map(|f| f.into_data().unwrap_or_default()))
    }

    fn frames(n: usize) -> Vec<Bytes> {
        (0..n).map(|i| Bytes::from(format!("e{i}"))).collect()
    }

    #[tokio::test]
    async fn full_body_yields_once() {
        let mut body = MockBody::full("abc");
        assert_eq!(body.size_hint().exact(), Some(3));
        assert_eq!(next(&mut body).await.and_then(Result::ok), Some(Bytes::from("abc")));
        assert!(next(&mut body).await.is_none());
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn frames_are_paced() {
        let mut body = MockBody::frames(frames(3), Duration::from_millis(30), None, watch());
        let start = Instant::now();
        let mut got = Vec::new();
        while let Some(frame) = next(&mut body).await {
            got.push(frame.unwrap_or_default());
        }
        assert_eq!(got, frames(3));
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(60) && elapsed < Duration::from_millis(1000),
            "{elapsed:?}"
        );
    }

    #[tokio::test]
    async fn cut_sends_n_frames_then_fails() {
        let mut body = MockBody::frames(frames(5), Duration::ZERO, Some(2), watch());
        assert_eq!(next(&mut body).await.and_then(Result::ok), Some(Bytes::from("e0")));
        assert_eq!(next(&mut body).await.and_then(Result::ok), Some(Bytes::from("e1")));
        assert!(matches!(next(&mut body).await, Some(Err(_))));
        let mut zero = MockBody::frames(frames(2), Duration::ZERO, Some(0), watch());
        assert!(matches!(next(&mut zero).await, Some(Err(_))));
    }

    #[tokio::test]
    async fn silent_body_never_yields() {
        let mut body = MockBody::Silent;
        let waited = tokio::time::timeout(Duration::from_millis(20), next(&mut body)).await;
        assert!(waited.is_err());
    }
}
