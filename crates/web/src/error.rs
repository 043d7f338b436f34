//! One error type for every handler, rendered as an HTML page for people and
//! as JSON for API clients. Each variant maps to exactly one HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openwarp_core::{Denied, ValidationErrors};
use openwarp_store::{AcceptError, StoreError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("you need to sign in")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the request is too large")]
    PayloadTooLarge,
    /// An uploaded file over the limit, in megabytes.
    #[error("the file is larger than {0} MB; split it into smaller files and upload each")]
    FileTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("some fields are not valid: {0}")]
    Invalid(ValidationErrors),
    #[error("{0}")]
    Unprocessable(String),
    /// A file whose rows have problems (CSV import): nothing was stored.
    #[error("{message}")]
    BadRows {
        message: String,
        rows: Vec<RowError>,
    },
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("something went wrong on our side; it has been logged")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge | AppError::FileTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Invalid(_) | AppError::Unprocessable(_) | AppError::BadRows { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Gone(_) => StatusCode::GONE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A one-field validation failure.
    pub fn field(field: &'static str, message: impl Into<String>) -> AppError {
        let mut e = ValidationErrors::new();
        e.add(field, message);
        AppError::Invalid(e)
    }

    fn log(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
    }
}

/// One problem with one row of an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    /// The column at fault.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::NotFound(what) => AppError::NotFound(what),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<AcceptError> for AppError {
    fn from(e: AcceptError) -> Self {
        match e {
            AcceptError::NotFound => AppError::NotFound("invitation"),
            AcceptError::Expired | AcceptError::AlreadyUsed | AcceptError::Revoked => {
                AppError::Gone(e.to_string())
            }
            AcceptError::EmailTaken(m) => AppError::Conflict(m),
            AcceptError::Store(s) => s.into(),
        }
    }
}

impl From<Denied> for AppError {
    fn from(e: Denied) -> Self {
        AppError::Forbidden(e.to_string())
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("background task: {e}"))
    }
}

/// The JSON error body of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    /// HTTP status code, repeated for convenience.
    pub status: u16,
    /// What went wrong, in plain English.
    pub message: String,
    /// Per-field problems (or per-row problems of an uploaded file), for 422 responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ApiFieldError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiFieldError {
    /// The field (or, for a file's rows, the column) at fault.
    pub field: String,
    /// For a file's rows: the 1-based line (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// An [`AppError`] answered as JSON (API routes).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let status = e.status();
        let fields = match &e {
            AppError::Invalid(v) => {
                v.0.iter()
                    .map(|f| ApiFieldError {
                        field: f.field.to_string(),
                        line: None,
                        message: f.message.clone(),
                    })
                    .collect()
            }
            AppError::BadRows { rows, .. } => rows
                .iter()
                .map(|r| ApiFieldError {
                    field: r.column.clone(),
                    line: Some(r.line),
                    message: r.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = ApiErrorBody {
            status: status.as_u16(),
            message: e.to_string(),
            fields,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"openwarp\""),
            );
        }
        resp
    }
}

/// Pages render errors through the error template; see `pages::render_error`.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        crate::pages::render_error(&self)
    }
}
