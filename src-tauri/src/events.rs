//! Events from the core to the UI. The outbox table is the truth; an event only says "read
//! it again" (and which rows changed, when known).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct OutboxChanged {
    pub ids: Vec<i64>,
}
