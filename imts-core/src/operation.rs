//! Typed operations and request building: one [`Operation`] per endpoint, turned into a signed,
//! authenticated `http::Request<Vec<u8>>` by [`PreparedRequest`].

use std::borrow::Cow;

use imts_crypto::{Packing, PartnerKey, PgSig, Signer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::{Config, Credentials, SignatureScheme};
use crate::endpoint::{Endpoint, Retry, Route, PATH_PREFIX};
use crate::error::Error;
use crate::models::auth::Token;
use crate::models::*;
use crate::retry::JitterRng;
use crate::signature::{CanonicalParams, SALT_FIELD, SIGNATURE_FIELD};
use crate::values::{OrderId, TransferId, ValueError};
use crate::wire::SignFields;

/// A request's parameters before signing. Its `Debug` shows sizes and keys, never values (a
/// body may carry a phone number in clear).
#[derive(Clone, PartialEq, Eq)]
pub struct Params {
    form: Form,
    /// The signature computed from a typed request's fields (this crate's models only): equal to
    /// the signature of the canonicalized form, and cheaper.
    typed_signature: Option<PgSig>,
}

#[derive(Clone, PartialEq, Eq)]
enum Form {
    Json(Vec<u8>),
    Query(Vec<(String, String)>),
}

impl Params {
    /// A JSON object, exactly as it will be sent (and signed).
    #[must_use]
    pub fn json(body: Vec<u8>) -> Self {
        Self {
            form: Form::Json(body),
            typed_signature: None,
        }
    }

    /// Query pairs of a GET (signed in canonical order).
    #[must_use]
    pub fn query(pairs: Vec<(String, String)>) -> Self {
        Self {
            form: Form::Query(pairs),
            typed_signature: None,
        }
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.form {
            Form::Json(body) => write!(f, "Json(<{} bytes>)", body.len()),
            Form::Query(pairs) => f
                .debug_tuple("Query")
                .field(&pairs.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// What request building may use: the partner key to seal personal data, and the endpoint's
/// name for errors.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    partner_key: Option<&'a PartnerKey>,
    packing: Packing,
    endpoint: &'a crate::error::EndpointName,
    /// The signer when the parameters are signed as they are (no salt is added): a typed request
    /// of this crate then signs itself from its fields.
    typed_signer: Option<&'a Signer>,
}

impl SealContext<'_> {
    /// The partner key, or the error saying it is needed.
    ///
    /// # Errors
    /// [`Error::MissingPartnerKey`] when none is configured.
    pub fn key(&self) -> Result<&PartnerKey, Error> {
        self.partner_key
            .ok_or_else(|| Error::MissingPartnerKey(self.endpoint.clone()))
    }

    /// The envelope packing of personal data.
    #[must_use]
    pub fn packing(&self) -> Packing {
        self.packing
    }

    /// The endpoint's name.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        self.endpoint
    }
}

/// What a write acts on: how to look it up when its outcome is uncertain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Nothing to look up (reads, and writes with no idempotency key).
    None,
    /// A transfer being created, found by its `order_id`.
    Order(OrderId),
    /// A transfer being moved, found by its id.
    Transfer(TransferId),
}

/// One call of the API: where it goes, its parameters, what it answers.
pub trait Operation {
    /// The decoded answer (and what it teaches a journal record).
    type Output: DeserializeOwned + crate::journal::Learnt;

    /// Method, path, signing and retry class.
    fn route(&self) -> Route;

    /// The parameters, with personal data sealed.
    ///
    /// # Errors
    /// When a value is invalid or the partner key is missing.
    fn params(&self, ctx: &SealContext<'_>) -> Result<Params, Error>;

    /// What to look up if a write's outcome is uncertain.
    fn subject(&self) -> Subject {
        Subject::None
    }
}

/// Serializes a wire object into the parameters its endpoint's method wants.
///
/// # Errors
/// When the object does not serialize to a flat-enough JSON object.
pub fn params_of<T: Serialize>(route: &Route, value: &T) -> Result<Params, Error> {
    // Sized for a typical request body: growing from empty costs four reallocations.
    let mut json = Vec::with_capacity(256);
    serde_json::to_writer(&mut json, value)
        .map_err(|e| ValueError::new("request", format!("cannot serialize: {e}")))?;
    if route.method == http::Method::GET {
        Ok(Params::query(
            CanonicalParams::from_json(&json)?.into_pairs(),
        ))
    } else {
        Ok(Params::json(json))
    }
}

/// [`params_of`] for this crate's wire objects, with the signature taken from their fields
/// when the context allows it (no salt, no unknown fields, no arrays).
fn typed_params_of<T: Serialize + SignFields>(
    route: &Route,
    value: &T,
    ctx: &SealContext<'_>,
) -> Result<Params, Error> {
    let mut params = params_of(route, value)?;
    params.typed_signature = ctx
        .typed_signer
        .and_then(|signer| signer.try_sign_with(|message| value.sign_fields(message)));
    Ok(params)
}

/// Implements [`Operation`] for wire requests sent as they are.
macro_rules! plain_operation {
    ($($request:ty => $output:ty, $endpoint:ident $(, subject: $subject:expr)?;)*) => {$(
        impl Operation for $request {
            type Output = $output;
            fn route(&self) -> Route {
                Endpoint::$endpoint.route()
            }
            fn params(&self, ctx: &SealContext<'_>) -> Result<Params, Error> {
                typed_params_of(&self.route(), self, ctx)
            }
            $(fn subject(&self) -> Subject {
                #[allow(clippy::redundant_closure_call)]
                ($subject)(self)
            })?
        }
    )*};
}

plain_operation! {
    GetAgentsRequest => AgentsResponse, GetAgents;
    FeesRequest => FeesResponse, Fees;
    PersonInfoRequest => ClientInfo, PersonInfo;
    BusinessInfoRequest => ClientInfo, BusinessInfo;
    CreateTransferRequest => Transfer, CreateTransfer,
        subject: |r: &CreateTransferRequest| Subject::Order(r.order_id.clone());
    PrintApplicationRequest => PrintedApplication, PrintApplication;
    ConfirmRequest => Transfer, Confirm,
        subject: |r: &ConfirmRequest| Subject::Transfer(r.transfer_id.clone());
    SearchRequest => SearchResponse, Search;
    PayoutConfirmRequest => Transfer, PayoutConfirm,
        subject: |r: &PayoutConfirmRequest| Subject::Transfer(r.transfer_id.clone());
    CancelRequest => Transfer, Cancel,
        subject: |r: &CancelRequest| Subject::Transfer(r.transfer_id.clone());
    StatusRequest => StatusResponse, Status;
    InfoRequest => Transfer, Info;
    // Already sealed: for callers that encrypt themselves.
    CreatePersonSealed => ClientCreated, CreatePerson;
    CreateBusinessSealed => ClientCreated, CreateBusiness;
    PayoutSealed => Transfer, Payout,
        subject: |r: &PayoutSealed| Subject::Transfer(r.transfer_id.clone());
}

impl Operation for CreatePerson {
    type Output = ClientCreated;
    fn route(&self) -> Route {
        Endpoint::CreatePerson.route()
    }
    fn params(&self, ctx: &SealContext<'_>) -> Result<Params, Error> {
        let sealed = self.person.seal(ctx.key()?, ctx.packing)?;
        let wire = CreatePersonSealed::new(sealed, self.country.clone(), self.phone.clone());
        typed_params_of(&self.route(), &wire, ctx)
    }
}

impl Operation for CreateBusiness {
    type Output = ClientCreated;
    fn route(&self) -> Route {
        Endpoint::CreateBusiness.route()
    }
    fn params(&self, ctx: &SealContext<'_>) -> Result<Params, Error> {
        let sealed = self.business.seal(ctx.key()?, ctx.packing)?;
        let wire = CreateBusinessSealed::new(sealed, self.country.clone());
        typed_params_of(&self.route(), &wire, ctx)
    }
}

impl Operation for Payout {
    type Output = Transfer;
    fn route(&self) -> Route {
        Endpoint::Payout.route()
    }
    fn params(&self, ctx: &SealContext<'_>) -> Result<Params, Error> {
        let sealed = self.recipient.seal(ctx.key()?, ctx.packing)?;
        let wire = PayoutSealed::new(self.transfer_id.clone(), sealed);
        typed_params_of(&self.route(), &wire, ctx)
    }
    fn subject(&self) -> Subject {
        Subject::Transfer(self.transfer_id.clone())
    }
}

/// A call to any path with a JSON object of parameters, signed and authenticated like the typed
/// calls. A path the endpoint table knows keeps that endpoint's retry rules; any other write is
/// never repeated after it may have reached the server.
#[derive(Clone)]
pub struct RawCall {
    route: Route,
    params: Params,
}

impl RawCall {
    /// `path` is either a full path (`/v5/partner/transfer/fees`) or relative to
    /// [`PATH_PREFIX`] (`fees`). `json_object` is sent as it is (a GET turns it into a query).
    ///
    /// # Errors
    /// When `json_object` is not a JSON object.
    pub fn new(method: http::Method, path: &str, json_object: &[u8]) -> Result<Self, Error> {
        let full_path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("{PATH_PREFIX}/{path}")
        };
        let route = match Endpoint::from_route(&method, &full_path) {
            Some(endpoint) => endpoint.route(),
            None => Route {
                name: Cow::Owned(format!("{method} {full_path}")),
                retry: if method == http::Method::GET {
                    Retry::Read
                } else {
                    Retry::Never
                },
                method,
                path: Cow::Owned(full_path),
                signed: true,
                result_field: None,
                is_token_exchange: false,
            },
        };
        let params = CanonicalParams::from_json(json_object)?;
        let params = if route.method == http::Method::GET {
            Params::query(params.into_pairs())
        } else {
            Params::json(json_object.to_vec())
        };
        Ok(Self { route, params })
    }
}

impl std::fmt::Debug for RawCall {
    // The parameters may hold anything a caller put there: only the route is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCall")
            .field("route", &self.route.name)
            .finish_non_exhaustive()
    }
}

impl Operation for RawCall {
    type Output = Box<RawValue>;
    fn route(&self) -> Route {
        self.route.clone()
    }
    fn params(&self, _ctx: &SealContext<'_>) -> Result<Params, Error> {
        Ok(self.params.clone())
    }
}

/// A request signed once and sent as many times as the call needs (only the token changes).
/// Its `Debug` shows the route and the body's length, never the body (it may hold a phone
/// number sent in clear).
#[derive(Clone)]
pub struct PreparedRequest {
    route: Route,
    path_and_query: String,
    body: Option<Vec<u8>>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("route", &self.route.name)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// Adds `"key":value_json` to a serialized JSON object.
fn append_field(body: &mut Vec<u8>, key: &str, value_json: &str) {
    let trimmed_len = body.trim_ascii_end().len();
    body.truncate(trimmed_len);
    let closing = body.pop();
    debug_assert_eq!(closing, Some(b'}'));
    let empty = body.trim_ascii_end().ends_with(b"{");
    if !empty {
        body.push(b',');
    }
    body.push(b'"');
    body.extend_from_slice(key.as_bytes());
    body.extend_from_slice(b"\":");
    body.extend_from_slice(value_json.as_bytes());
    body.push(b'}');
}

fn salt(seed: u64) -> String {
    let mut rng = JitterRng::new(seed);
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

impl PreparedRequest {
    /// Builds and signs the request of `op`. `salt_seed` feeds `pg_salt` when the scheme is
    /// [`SignatureScheme::Salted`].
    ///
    /// # Errors
    /// When a value is invalid, the body cannot be canonicalized, or the partner key is missing.
    pub fn new<O: Operation + ?Sized>(
        op: &O,
        credentials: &Credentials,
        config: &Config,
        salt_seed: u64,
    ) -> Result<Self, Error> {
        let route = op.route();
        let salted = route.signed && config.signature_scheme == SignatureScheme::Salted;
        let ctx = SealContext {
            partner_key: credentials.partner_key(),
            packing: config.envelope_packing,
            endpoint: &route.name,
            typed_signer: (route.signed && !salted).then(|| credentials.signer()),
        };
        let params = op.params(&ctx)?;
        let typed_signature = params.typed_signature;
        let (path_and_query, body) = match params.form {
            Form::Json(mut body) => {
                if body.trim_ascii().is_empty() {
                    body = b"{}".to_vec();
                }
                if route.signed {
                    if salted {
                        append_field(&mut body, SALT_FIELD, &format!("\"{}\"", salt(salt_seed)));
                    }
                    let sig = match typed_signature {
                        Some(sig) => sig,
                        None => crate::signature::sign_json(&body, credentials.signer())?,
                    };
                    append_field(&mut body, SIGNATURE_FIELD, &format!("\"{sig}\""));
                }
                (route.path.to_string(), Some(body))
            }
            Form::Query(mut pairs) => {
                if route.signed {
                    if salted {
                        pairs.push((SALT_FIELD.to_owned(), salt(salt_seed)));
                    }
                    let canonical = CanonicalParams::from_pairs(pairs)?;
                    // The query holds the canonical leaves of the same fields: the typed
                    // signature is the same, and cheaper.
                    let sig =
                        typed_signature.unwrap_or_else(|| canonical.sign(credentials.signer()));
                    pairs = canonical.into_pairs();
                    pairs.push((SIGNATURE_FIELD.to_owned(), sig.to_string()));
                }
                // Sized for the common case (nothing to percent-encode) and written in place
                // after the path.
                let size = route.path.len()
                    + pairs
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 2)
                        .sum::<usize>();
                let mut path = String::with_capacity(size);
                path.push_str(&route.path);
                let path = if pairs.is_empty() {
                    path
                } else {
                    path.push('?');
                    let start = path.len();
                    form_urlencoded::Serializer::for_suffix(path, start)
                        .extend_pairs(&pairs)
                        .finish()
                };
                (path, None)
            }
        };
        Ok(Self {
            route,
            path_and_query,
            body,
        })
    }

    /// The route.
    #[must_use]
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The signed body, for POST and PATCH.
    #[must_use]
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// Path and signed query.
    #[must_use]
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The HTTP request, with `Authorization: Bearer` when `access` is given.
    ///
    /// # Errors
    /// When the base URL and path do not make a valid URI.
    pub fn to_http(
        &self,
        base_url: &str,
        access: Option<&Token>,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        build_http(
            &self.route.method,
            join_url(base_url, &self.path_and_query),
            access.map(Token::expose_secret),
            self.body.clone(),
        )
    }
}

/// `base_url` (its trailing `/` dropped) then `path`, in one allocation of the exact size.
pub(crate) fn join_url(base_url: &str, path: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + path.len());
    url.push_str(base);
    url.push_str(path);
    url
}

/// An HTTP request with the API's headers (the URI taken over from `uri`, not copied).
pub(crate) fn build_http(
    method: &http::Method,
    uri: String,
    bearer: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<http::Request<Vec<u8>>, Error> {
    let mut builder = http::Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(http::header::ACCEPT, "application/json");
    if body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    if let Some(token) = bearer {
        let mut value = http::HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| ValueError::new("access_token", "is not a valid header value"))?;
        value.set_sensitive(true);
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    builder.body(body.unwrap_or_default()).map_err(|e| {
        ValueError::new(
            "base_url",
            format!("does not make a valid request URI: {e}"),
        )
        .into()
    })
}
