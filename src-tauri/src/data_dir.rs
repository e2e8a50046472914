//! The data directory holds drafts, the exact sent messages, logs and settings: other local
//! users must not read them. On Unix the directory (and `logs/`) is 0700 and every file in it
//! 0600, fixed at each start for what an older version (or a log rotation) left with wider
//! modes; the outbox database is created 0600, and SQLite gives its `-wal` and `-shm` files the
//! database file's mode. On Windows the app sets no permissions of its own: the directory is in
//! the user's profile (`%LOCALAPPDATA%`), whose access list, inherited by everything created in
//! it, admits only that user, SYSTEM and the Administrators group; that is what keeps other
//! users out. A directory chosen with `SO_OUTBOX_DATA_DIR` outside the profile keeps the access
//! list it inherits there, which the app does not narrow.

use codes::ErrorCode;
use std::path::Path;

/// Creates the directory if needed and makes it and everything in it private.
pub fn prepare(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir)
}

/// Locks `instance.lock` in the data directory, so two instances never share an outbox (two
/// senders could otherwise mislabel each other's sends).
pub(crate) fn single_instance(data_dir: &std::path::Path) -> crate::error::CmdResult<std::fs::File> {
    let path = data_dir.join("instance.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| crate::error::CommandError::new(ErrorCode::DataDirUnusable, format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(crate::error::CommandError::new(
            ErrorCode::AlreadyRunning,
            "SuperOffice Outbox is already running for this data directory. Switch to the open window, or close it first.",
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(crate::error::CommandError::new(ErrorCode::DataDirUnusable, format!("cannot lock {}: {e}", path.display())))
        }
    }
}

#[cfg(unix)]
fn restrict(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let private_dir = |d: &Path| std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
    private_dir(dir)?;
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            // Never follows a link: a symlink planted here must not re-mode its target.
            let kind = entry.file_type()?;
            if kind.is_dir() {
                private_dir(&entry.path())?;
                dirs.push(entry.path());
            } else if kind.is_file() {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// Windows: nothing to narrow; the profile's inherited access list protects the files (above).
#[cfg(not(unix))]
fn restrict(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn existing_wide_modes_are_narrowed() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("logs")).expect("mkdir");
        for f in ["outbox.sqlite", "outbox.sqlite-wal", "config.json", "logs/so-outbox.2026-12-03.log"] {
            std::fs::write(dir.join(f), b"x").expect("write");
            std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        super::prepare(&dir).expect("prepare");
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!((mode(&dir), mode(&dir.join("logs"))), (0o700, 0o700));
        for f in ["outbox.sqlite", "outbox.sqlite-wal", "config.json", "logs/so-outbox.2026-12-03.log"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    }
}

#[cfg(test)]
mod instance_tests {
    #[test]
    fn a_second_instance_on_the_same_data_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = super::single_instance(dir.path()).expect("the first instance gets the lock");
        let second = super::single_instance(dir.path()).expect_err("a second instance must be refused");
        assert_eq!(second.code, "already_running");
        assert!(second.message.contains("already running"));
        drop(first);
        assert!(super::single_instance(dir.path()).is_ok(), "the lock is released when the first instance ends");
    }
}
