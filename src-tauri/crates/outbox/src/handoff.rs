//! The handoff channel: the approved text goes to the rep's clipboard and a new message opens
//! in their mail program; the row then waits for the rep's "it was sent" (it is never marked
//! sent without them, and the ticker never hands off on its own).
//!
//! The desktop (clipboard, mail program) belongs to the app; it is reached through [`Desk`], so
//! the whole handoff lives here, beside the other channels, and is tested without a window.

use crate::channel::{handoff_text, mailto, Channel};
use crate::{Delivery, Error, Result};

/// The rep's desktop, as the handoff needs it.
pub trait Desk: Send + Sync {
    /// Puts `text` on the clipboard.
    fn copy(&self, text: &str) -> std::result::Result<(), String>;
    /// Opens a new message (a `mailto:` address) in the rep's mail program.
    fn compose(&self, mailto: &str) -> std::result::Result<(), String>;
}

impl Delivery {
    /// Approves a draft; on the handoff channel it is handed to the rep at once.
    pub async fn approve_at(&self, id: i64, desk: &dyn Desk) -> Result<()> {
        self.approve(id)?;
        if self.channel().channel == Channel::Handoff {
            self.hand_off(id, desk).await?;
        }
        Ok(())
    }

    /// Hands an approved message to the rep: the text to the clipboard first (if that fails,
    /// nothing else happens and the message stays approved), then the row waits for the rep,
    /// then the mail program opens (if it cannot, the text is on the clipboard anyway).
    pub async fn hand_off(&self, id: i64, desk: &dyn Desk) -> Result<()> {
        let row = self.store.get(id)?;
        let (to, subject) = (row.recipient_email.clone().unwrap_or_default(), row.subject.clone().unwrap_or_default());
        desk.copy(&handoff_text(&to, &subject, &row.body)).map_err(Error::Clipboard)?;
        self.deliver(id).await?;
        if let Err(e) = desk.compose(&mailto(&to, &subject, &row.body)) {
            tracing::warn!("could not open the mail program: {e}");
        }
        Ok(())
    }
}
