//! Start the real application on an ephemeral port and drive it like a browser.

use chrono::Duration;
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{Email, OrgId, Password, Role};
use openwarp_store::testing::{TestDb, all_backends, sqlite};
use openwarp_store::{NewUser, Organisation, Store, User, crypto, now};
use openwarp_web::WebConfig;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    pub async fn start(db: TestDb) -> TestApp {
        TestApp::start_with(db, |_| {}).await
    }

    /// Start with the test configuration changed by `adjust`.
    pub async fn start_with(db: TestDb, adjust: impl FnOnce(&mut WebConfig)) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let mut config = WebConfig {
            warp_name: "TESTWARP".into(),
            warp_region: "Test Region".into(),
            public_url: base.clone(),
            // Second factors have their own tests (mfa.rs), which turn this on.
            operators_need_mfa: false,
            ..WebConfig::default()
        };
        adjust(&mut config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let store = db.store.clone();
        tokio::spawn(openwarp_web::serve(
            listener,
            store.clone(),
            config,
            async {
                let _ = rx.await;
            },
        ));
        TestApp {
            base,
            store,
            db,
            shutdown: Some(tx),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend().name()
    }

    /// A fresh client with its own cookie jar, not following redirects.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }

    pub async fn user(&self, email: &str, role: Role, org: Option<OrgId>) -> User {
        let email = Email::parse(email).expect("email");
        let password = Password::new(PASSWORD, &email).expect("password");
        let hash = crypto::hash_password(&password).expect("hash");
        self.store
            .create_user(
                &NewUser {
                    display_name: format!(
                        "User {}",
                        email.as_str().split('@').next().unwrap_or("")
                    ),
                    email,
                    role,
                    org_id: org,
                    password_hash: hash,
                },
                now(),
            )
            .await
            .expect("create user")
    }

    pub async fn org(&self, name: &str, kind: &str, employers_member: bool) -> Organisation {
        let draft = OrganisationInput {
            name: name.into(),
            council_type: kind.into(),
            employers_member,
            renewal_date: (now().date_naive() + Duration::days(200))
                .format("%Y-%m-%d")
                .to_string(),
            ..OrganisationInput::default()
        }
        .validate()
        .expect("draft");
        self.store
            .create_org(&draft, now())
            .await
            .expect("create org")
    }

    /// A bearer token for `user`.
    pub async fn token(&self, user: &User) -> String {
        self.store
            .create_api_token(user.id, "test", now())
            .await
            .expect("token")
            .1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Start one app per available backend (SQLite, and PostgreSQL when configured).
pub async fn apps() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in all_backends().await {
        apps.push(TestApp::start(db).await);
    }
    apps
}

/// Like [`apps`], without the abuse limits: for tests that act hundreds of
/// times as one person on purpose (the access matrices).
pub async fn apps_without_rate_limits() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in all_backends().await {
        apps.push(TestApp::start_with(db, |c| c.rate_limits = false).await);
    }
    apps
}

pub async fn sqlite_app() -> TestApp {
    TestApp::start(sqlite().await).await
}

/// A bearer token, or none.
pub trait Bearer {
    fn bearer(&self) -> Option<&str>;
}

impl<T: AsRef<str> + ?Sized> Bearer for &T {
    fn bearer(&self) -> Option<&str> {
        Some((*self).as_ref())
    }
}

impl<T: AsRef<str> + ?Sized> Bearer for Option<&T> {
    fn bearer(&self) -> Option<&str> {
        self.map(AsRef::as_ref)
    }
}

/// No bearer token: call the API anonymously.
pub const ANON: Option<&str> = None;

/// Call the JSON API as the holder of `token` (or anonymously with `None`):
/// the status and the body as JSON (as a JSON string when it is not JSON).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: impl Bearer,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut req = app.client().http.request(method, app.url(path));
    if let Some(t) = token.bearer() {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// A response read in full.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The CSRF token in the page's first form.
    pub fn csrf(&self) -> String {
        value_after(&self.body, "name=\"csrf\" value=\"").expect("page has a CSRF field")
    }

    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

/// The text between `marker` and the next double quote.
pub fn value_after(body: &str, marker: &str) -> Option<String> {
    text_until(body, marker, '"')
}

/// The text between `marker` and the next `end`.
pub fn text_until(body: &str, marker: &str, end: char) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let stop = body[start..].find(end)? + start;
    Some(body[start..stop].to_string())
}

/// The one-time link on an "invitation/reset link created" page, as a local path.
pub fn issued_path(page: &Page, base: &str) -> String {
    let link = value_after(&page.body, "readonly value=\"").expect("the page shows a link");
    link.strip_prefix(base)
        .expect("the link points at this site")
        .to_string()
}

pub struct Client {
    pub http: reqwest::Client,
    base: String,
}

impl Client {
    async fn read(resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = resp.text().await.expect("body");
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        Self::read(resp).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST");
        Self::read(resp).await
    }

    /// Fetch `page_path` for its CSRF token, then post `form` (plus the token) to `action`.
    pub async fn submit(&self, page_path: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let page = self.get(page_path).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "GET {page_path}: {}",
            page.body
        );
        let csrf = page.csrf();
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        self.post(action, &fields).await
    }

    /// Post a multipart form: `fields` as text, then `file` as the `file` field.
    pub async fn post_file(
        &self,
        action: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, Vec<u8>, &str)>,
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some((name, bytes, mime)) = file {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .expect("mime");
            form = form.part("file", part);
        }
        let resp = self
            .http
            .post(format!("{}{action}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("POST multipart");
        Self::read(resp).await
    }

    /// Fetch `page_path` for its CSRF token, then upload `file` to `action`.
    pub async fn upload(&self, page_path: &str, action: &str, file: (&str, Vec<u8>, &str)) -> Page {
        let page = self.get(page_path).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "GET {page_path}: {}",
            page.body
        );
        let csrf = page.csrf();
        self.post_file(action, &[("csrf", &csrf)], Some(file)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.submit(
            "/login",
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("next", "/dashboard"),
            ],
        )
        .await
    }

    /// Sign in and insist it worked.
    pub async fn signed_in(self, email: &str) -> Client {
        let page = self.login(email, PASSWORD).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign-in as {email} failed: {}",
            page.body
        );
        self
    }
}
