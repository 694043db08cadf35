//! The desktop's side of the hub protocol (docs/hub-protocol.md): who the token is, push the
//! queue, pull the changes, and the stream that says when to pull.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use stopline_store::{Outcome, Pull, QueuedMutation};

use crate::{EngineError, Result};

/// At most this many mutations per push (the hub takes up to 1,000).
pub const PUSH_BATCH: usize = 500;

/// The longest a request may wait for the hub's next bytes. A link that went down mid-request
/// sends nothing, not even a reset: the request fails after this, and the desktop counts the
/// hub as away.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The same for the stream, whose keep-alive comes every 15 seconds.
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(25);

/// A person's connection to one hub.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    /// The stream's client: the stream lasts; only silence beyond the keep-alive ends it.
    streaming: reqwest::Client,
    url: String,
    token: String,
}

/// Who the token belongs to, by the hub.
#[derive(Debug, Clone, Deserialize)]
pub struct HubPerson {
    pub person: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// The hub's answer to a push.
#[derive(Debug, Clone, Deserialize)]
pub struct PushAnswer {
    pub last_mutation_id: i64,
    pub outcomes: Vec<Outcome>,
}

impl HubClient {
    pub fn new(url: &str, token: &str) -> Result<Self> {
        let build = |read_timeout: Duration| {
            stopline_http::client::client(|builder| {
                builder
                    .connect_timeout(Duration::from_secs(3))
                    .read_timeout(read_timeout)
            })
            .map_err(stopline_alertmanager::HttpClientError)
        };
        Ok(Self {
            // No limit on a whole request: a full resync of a large organisation may take a
            // while, as long as bytes keep coming.
            http: build(READ_TIMEOUT)?,
            streaming: build(STREAM_READ_TIMEOUT)?,
            url: url.to_owned(),
            token: token.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET /v1/whoami`.
    pub async fn whoami(&self) -> Result<HubPerson> {
        let response = self
            .http
            .get(format!("{}/v1/whoami", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.read(response).await
    }

    /// `POST /v1/push` of `mutations` (in queue order) as `person` from `desktop`.
    pub async fn push(
        &self,
        desktop: &str,
        person: &str,
        mutations: &[QueuedMutation],
    ) -> Result<PushAnswer> {
        let body = json!({
            "desktop_id": desktop,
            "person": person,
            "mutations": mutations.iter().map(|m| json!({
                "id": m.id, "name": m.name, "args": m.args, "at": m.at.to_string(),
            })).collect::<Vec<Value>>(),
        });
        let response = self
            .http
            .post(format!("{}/v1/push", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.read(response).await
    }

    /// `POST /v1/pull` after `cookie` (`None`: everything).
    pub async fn pull(&self, desktop: &str, cookie: Option<&str>) -> Result<Pull> {
        let response = self
            .http
            .post(format!("{}/v1/pull", self.url))
            .bearer_auth(&self.token)
            .json(&json!({"desktop_id": desktop, "cookie": cookie}))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.read(response).await
    }

    /// Opens `GET /v1/stream`; read it with [`HubStream::next`].
    pub async fn stream(&self) -> Result<HubStream> {
        let response = self
            .streaming
            .get(format!("{}/v1/stream", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        Ok(HubStream {
            response,
            buffer: String::new(),
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> EngineError {
        EngineError::HubUnreachable {
            url: self.url.clone(),
            reason: stopline_alertmanager::describe(error),
        }
    }

    async fn read<T: serde::de::DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| EngineError::HubRefused {
            status: 200,
            message: format!("the hub's answer is not what this desktop understands: {e}"),
            path: String::new(),
        })
    }
}

/// The hub said no: its status and `{"error", "path"}`.
async fn refusal(response: reqwest::Response) -> EngineError {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    EngineError::HubRefused {
        status,
        message: body["error"]
            .as_str()
            .unwrap_or("no reason given")
            .to_owned(),
        path: body["path"].as_str().unwrap_or("").to_owned(),
    }
}

/// An open stream of server-sent events.
#[derive(Debug)]
pub struct HubStream {
    response: reqwest::Response,
    buffer: String,
}

impl HubStream {
    /// Waits for the next event (`pull`, or a `page` for this person: either way the desktop
    /// pulls, which carries it); `false` when the hub closed the stream. Keep-alive comments
    /// are skipped.
    pub async fn next(&mut self) -> Result<bool> {
        loop {
            // An event ends at a blank line.
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|line| line.starts_with("event:")) {
                    return Ok(true);
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| EngineError::HubUnreachable {
                    url: self.response.url().to_string(),
                    reason: stopline_alertmanager::describe(&e),
                })?;
            match chunk {
                Some(bytes) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                None => return Ok(false),
            }
        }
    }
}
