//! Client connections: one task per connection, one request at a time, each answered by the
//! node loop or refused with the reason.

use crate::metrics::Metrics;
use crate::node_loop::{offer, Command, Inbox, NotTaken};
use colony_net::api::{decode_request, encode_response, ApiRequest, ApiResponse, TransactOutcome};
use colony_net::Conn;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long a request waits for the node loop's answer before the client is told its fate is
/// unknown (it retries under the same sequence number, which its session makes safe).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The most cells one directory page lists.
pub const DIRECTORY_PAGE_MAX: u32 = 1000;

/// Serves one client connection until it closes.
pub async fn serve(mut conn: Conn, inbox: Inbox, metrics: Arc<Metrics>) {
    loop {
        let bytes = match conn.recv().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) | Err(_) => return,
        };
        let started = Instant::now();
        let mut stopping = false;
        let response = match decode_request(&bytes) {
            Ok(request) => answer(request, &inbox, &mut stopping).await,
            Err(e) => ApiResponse::Error(e.to_string()),
        };
        if matches!(response, ApiResponse::Transact(_)) {
            metrics.request_seconds.observe(started.elapsed());
        }
        let bytes = match encode_response(&response) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!("a response does not encode: {e}");
                return;
            }
        };
        if conn.send(bytes).await.is_err() || stopping {
            return;
        }
    }
}

/// The node loop's answer to `request`; `stopping` is set when the loop has stopped, so that
/// the connection closes after telling the client.
async fn answer(request: ApiRequest, inbox: &Inbox, stopping: &mut bool) -> ApiResponse {
    match request {
        ApiRequest::Transact { cell, request } => {
            let outcome = ask(inbox, stopping, |reply| Command::Transact {
                cell,
                request,
                reply,
            })
            .await;
            ApiResponse::Transact(match outcome {
                Ok(outcome) => outcome,
                Err(Unanswered::NotTaken(e)) => TransactOutcome::Refused(e.to_string()),
                Err(Unanswered::Late) => TransactOutcome::Unknown(format!(
                    "no answer within {REQUEST_TIMEOUT:?}: retry under the same sequence number"
                )),
            })
        }
        ApiRequest::CreateCell { cell, members } => {
            match ask(inbox, stopping, |reply| Command::Create {
                cell,
                members,
                reply,
            })
            .await
            {
                Ok(Ok(())) => ApiResponse::Created,
                Ok(Err(reason)) => ApiResponse::Error(format!("{cell} not created: {reason}")),
                Err(e) => ApiResponse::Error(e.to_string()),
            }
        }
        ApiRequest::Locate { name } => {
            match ask(inbox, stopping, |reply| Command::Locate { name, reply }).await {
                Ok(location) => ApiResponse::Located(location),
                Err(e) => ApiResponse::Error(e.to_string()),
            }
        }
        ApiRequest::ListDirectory { after, limit } => {
            let limit = limit.min(DIRECTORY_PAGE_MAX) as usize;
            match ask(inbox, stopping, |reply| Command::ListDirectory {
                after,
                limit,
                reply,
            })
            .await
            {
                Ok(Some(page)) => ApiResponse::Directory(page),
                Ok(None) => {
                    ApiResponse::Error("this node keeps no copy of the directory".to_string())
                }
                Err(e) => ApiResponse::Error(e.to_string()),
            }
        }
        ApiRequest::CellStatus { cell } => {
            match ask(inbox, stopping, |reply| Command::CellStatus { cell, reply }).await {
                Ok(status) => ApiResponse::CellStatus(status),
                Err(e) => ApiResponse::Error(e.to_string()),
            }
        }
        ApiRequest::NodeStatus => {
            match ask(inbox, stopping, |reply| Command::Status { reply }).await {
                Ok(status) => ApiResponse::NodeStatus(status),
                Err(e) => ApiResponse::Error(e.to_string()),
            }
        }
    }
}

/// Why the node loop gave no answer.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    #[error("{0}")]
    NotTaken(#[from] NotTaken),
    #[error("the node did not answer in time")]
    Late,
}

/// Gives the node loop a command built around a reply slot and waits for the answer.
async fn ask<T>(
    inbox: &Inbox,
    stopping: &mut bool,
    command: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, Unanswered> {
    let (reply, answer) = oneshot::channel();
    if let Err(e) = offer(inbox, command(reply)) {
        *stopping = e == NotTaken::Stopped;
        return Err(e.into());
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
        Ok(Ok(value)) => Ok(value),
        // The loop dropped the slot (it stopped) or took too long.
        Ok(Err(_)) | Err(_) => Err(Unanswered::Late),
    }
}
