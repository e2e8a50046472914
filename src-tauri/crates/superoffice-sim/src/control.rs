//! The test-only control surface (not SuperOffice endpoints): the [`SimHandle`] methods that
//! switch profiles, inject faults, break id_tokens, expire tokens, seed tasks, change the app
//! registration's redirect rules, choose the `odata.nextLink` form, and read counters and the
//! request log. The same operations over HTTP are in `control_http.rs` (feature `control`).

use crate::edge::Counters;
use crate::faults::Fault;
use crate::profiles::Profile;
use crate::reqlog::RequestRecord;
use crate::system_user::SystemUserRegistration;
use crate::tamper::IdTokenTamper;
use crate::{lock, Sim, SimHandle};

impl Sim {
    pub(crate) fn set_profile(&self, name: &str) -> Result<(), String> {
        let found = lock(&self.profiles).iter().find(|p| p.name == name).cloned();
        let profile = found.ok_or_else(|| format!("unknown profile '{name}' (known: {})", self.profile_names().join(", ")))?;
        tracing::info!(profile = %name, "simulator profile switched");
        lock(&self.tenant).profile = profile;
        Ok(())
    }

    pub(crate) fn profile_names(&self) -> Vec<String> {
        lock(&self.profiles).iter().map(|p| p.name.clone()).collect()
    }

    /// Registers a profile (replacing one of the same name) and switches to it.
    pub(crate) fn use_profile(&self, profile: Profile) {
        let name = profile.name.clone();
        {
            let mut list = lock(&self.profiles);
            list.retain(|p| p.name != name);
            list.push(profile.clone());
        }
        lock(&self.tenant).profile = profile;
    }
}

impl SimHandle {
    /// Switches to a known profile (built in or loaded).
    pub fn set_profile(&self, name: &str) -> Result<(), String> {
        self.sim.set_profile(name)
    }
    /// The names of the known profiles.
    pub fn profile_names(&self) -> Vec<String> {
        self.sim.profile_names()
    }
    /// The current profile.
    pub fn profile(&self) -> Profile {
        lock(&self.sim.tenant).profile.clone()
    }
    /// Registers `profile` (replacing one of the same name) and switches to it.
    pub fn use_profile(&self, profile: Profile) {
        self.sim.use_profile(profile)
    }
    /// Loads a profile file, registers it and switches to it; returns its name.
    pub fn load_profile(&self, path: impl AsRef<std::path::Path>) -> Result<String, String> {
        let p = Profile::from_path(path)?;
        let name = p.name.clone();
        self.sim.use_profile(p);
        Ok(name)
    }
    /// Adds a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        self.sim.faults.inject(fault)
    }
    /// The faults not used up yet (a test can check that its fault really happened).
    pub fn active_faults(&self) -> Vec<Fault> {
        self.sim.faults.active()
    }

    pub fn clear_faults(&self) {
        self.sim.faults.clear()
    }
    /// Breaks the id_tokens the token endpoint issues from now on (`None` = sound tokens).
    pub fn set_id_token_tamper(&self, tamper: Option<IdTokenTamper>) {
        *lock(&self.sim.tamper) = tamper;
    }
    /// Every access token issued so far stops working (REST answers 401).
    pub fn expire_access_tokens(&self) {
        self.sim.oidc.expire_access_tokens()
    }
    /// Token-endpoint and per-path request counts so far.
    pub fn counters(&self) -> Counters {
        lock(&self.sim.counters).clone()
    }
    /// Adds `n` open drafted follow-ups for the rep.
    pub fn seed_tasks(&self, n: usize) {
        lock(&self.sim.tenant).seed_tasks(n)
    }
    /// The partner app's system-user registration (the test plays the partner).
    pub fn system_user(&self) -> SystemUserRegistration {
        self.sim.partner.registration(&self.sim.client.client_secret)
    }
    /// The node the tenant lives on now (`n1`, `n2`, …).
    pub fn node(&self) -> String {
        self.sim.node_name()
    }
    /// The REST base on the current node, `{base}/{node}/{ctx}/api` (the state API's `Api`).
    pub fn webapi_url(&self) -> String {
        format!("{}/{}/{}/api", self.sim.base_url, self.sim.node_name(), self.context_id())
    }
    /// Every request received so far (REST, OIDC, state API; not `/__sim/`), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests.all()
    }
    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.sim.requests.clear()
    }
    /// The app registration's redirect rules now (see `redirect.rs`).
    pub fn redirect_rules(&self) -> Vec<String> {
        lock(&self.sim.redirect_rules).clone()
    }
    /// Replaces the app registration's redirect rules (exact URLs or regular expressions);
    /// refused when one is not a valid regular expression.
    pub fn set_redirect_rules(&self, rules: Vec<String>) -> Result<(), String> {
        crate::redirect::validate(&rules)?;
        *lock(&self.sim.redirect_rules) = rules;
        Ok(())
    }
    /// `odata.nextLink` as an absolute URL (`true`) or relative to the request (the default).
    pub fn set_absolute_next_links(&self, absolute: bool) {
        self.sim.absolute_links.store(absolute, std::sync::atomic::Ordering::SeqCst)
    }
}
