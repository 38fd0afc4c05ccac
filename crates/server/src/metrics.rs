//! Prometheus metrics: GraphQL requests by operation name and outcome, and their latency.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Distinct operation names kept as labels; later names are counted as `other`, so that
/// clients cannot grow the metric without bound.
const MAX_OPERATION_LABELS: usize = 200;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sockets: IntGauge,
    operations: Mutex<HashSet<String>>,
}

/// What a request is counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// An operation that executed for an authenticated caller, by its name (if it has one).
    Executed(Option<&'a str>),
    /// An operation that executed without a token (introspection, or data fields refused).
    Unauthenticated,
    /// A request refused before execution: bad token, unparsable body, invalid document,
    /// oversized batch.
    Rejected,
}

/// How a GraphQL operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
        }
    }
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "quorum_graphql_requests_total",
                "GraphQL operations executed, by operation name and outcome.",
            ),
            &["operation", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "quorum_graphql_request_duration_seconds",
                "Time to execute a GraphQL operation, by operation name.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["operation"],
        )?;
        let sockets = IntGauge::new(
            "quorum_websocket_connections",
            "GraphQL WebSocket connections open now.",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(sockets.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            sockets,
            operations: Mutex::new(HashSet::new()),
        })
    }

    pub fn socket_opened(&self) {
        self.sockets.inc();
    }

    pub fn socket_closed(&self) {
        self.sockets.dec();
    }

    pub fn observe(&self, operation: Operation<'_>, outcome: Outcome, elapsed: Duration) {
        let operation = match operation {
            Operation::Executed(name) => self.operation_label(name),
            Operation::Unauthenticated => "unauthenticated".to_owned(),
            Operation::Rejected => "rejected".to_owned(),
        };
        self.requests
            .with_label_values(&[operation.as_str(), outcome.label()])
            .inc();
        self.latency
            .with_label_values(&[operation.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    fn operation_label(&self, operation_name: Option<&str>) -> String {
        let Some(name) = operation_name else {
            return "anonymous".to_owned();
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return "invalid".to_owned();
        }
        let mut known = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if known.contains(name) || known.len() < MAX_OPERATION_LABELS {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_beyond_the_cap_are_counted_as_other() {
        let metrics = Metrics::new().expect("metrics register");
        for n in 0..MAX_OPERATION_LABELS {
            metrics.observe(
                Operation::Executed(Some(&format!("Op{n}"))),
                Outcome::Ok,
                Duration::ZERO,
            );
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("Op0")), "Op0");
        assert_eq!(metrics.operation_label(Some("bad name!")), "invalid");
        assert_eq!(metrics.operation_label(None), "anonymous");
    }
}
