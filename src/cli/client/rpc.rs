//! [`RpcClient`]: JSON-RPC 2.0 over blocking HTTP. Each request is one POST; transport failures,
//! JSON-RPC errors and reverts (geth's error code 3, with the revert data) become
//! [`ClientError`]s.

use std::time::Duration;

use alloy_primitives::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::ClientError;
use crate::eth::revert_reason;
use crate::node::rpc::error::EXECUTION_REVERTED;

/// The largest answer read (the node's own limit on a response).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// A connection to one node.
pub struct RpcClient {
    agent: ureq::Agent,
    url: String,
    timeout: Duration,
}

/// A JSON-RPC response: a result (possibly `null`) or an error.
#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl RpcClient {
    /// A client of the node at `url`; each request may take up to `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // JSON-RPC errors come with any status; the body says what happened.
            .http_status_as_error(false)
            .build();
        RpcClient {
            agent: ureq::Agent::new_with_config(config),
            url: url.to_string(),
            timeout,
        }
    }

    /// Calls `method` with `params` (a JSON array) and reads its result as `T` (an
    /// `Option` for methods that may answer `null`).
    pub fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: impl Serialize,
    ) -> Result<T, ClientError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let mut response = self
            .agent
            .post(&self.url)
            .send_json(&body)
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(|e| self.transport_error(e))?;
        let bad = |message: String| ClientError::BadResponse {
            method: method.to_string(),
            message,
        };
        let response: Response = serde_json::from_str(&text).map_err(|_| {
            bad(format!(
                "HTTP {status}, not a JSON-RPC response: {}",
                text.chars().take(200).collect::<String>()
            ))
        })?;
        if let Some(error) = response.error {
            return Err(rpc_error(method, error));
        }
        serde_json::from_value(response.result.unwrap_or(Value::Null))
            .map_err(|e| bad(format!("{e}")))
    }

    fn transport_error(&self, e: ureq::Error) -> ClientError {
        let url = self.url.clone();
        match e {
            ureq::Error::Timeout(_) => ClientError::Timeout {
                url,
                seconds: self.timeout.as_secs(),
            },
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                ClientError::Unreachable {
                    url,
                    message: e.to_string(),
                }
            }
            other => ClientError::Http {
                url,
                message: other.to_string(),
            },
        }
    }
}

/// A JSON-RPC error as a [`ClientError`]: a revert carries its data (decoded when it is
/// Solidity's `Error(string)`).
fn rpc_error(method: &str, error: ErrorObject) -> ClientError {
    if error.code == i64::from(EXECUTION_REVERTED) {
        let data = error
            .data
            .and_then(|d| serde_json::from_value::<Bytes>(d).ok())
            .unwrap_or_default();
        return ClientError::Reverted {
            reason: revert_reason(&data),
            data,
        };
    }
    ClientError::Rpc {
        method: method.to_string(),
        code: error.code,
        message: error.message,
    }
}
