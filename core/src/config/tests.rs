use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::error::{Error, Result};
use crate::secret::Secret;

const SAMPLE: &str = "current-profile: ci-deploy
profiles:
  ci-deploy:
    server: ci-deploy
    user: ci-deploy
    workspace: dev
    colour: blue
  alice:
    server: main
    user: alice
servers:
  ci-deploy:
    server: https://wayfinder.example.com
  main:
    server: https://main.example.com
    caCertificate: PEM
    apiInfo:
      nonResourceAPI: /api/v2
      resourceAPI: /resources
users:
  ci-deploy:
    identity:
      refresh-token: access-token-value
      token: cached
  alice:
    token: static-value
    extra-user-key: [1, 2]
version: v2.x
plugins:
  something: {nested: true}
";

#[test]
fn round_trip_keeps_unknown_keys_and_order() -> Result<()> {
    let config = Config::parse(SAMPLE, Path::new("c"))?;
    let again = Config::parse(&config.to_yaml()?, Path::new("c"))?;
    assert_eq!(config, again);
    let yaml = config.to_yaml()?;
    for key in [
        "colour: blue",
        "extra-user-key",
        "plugins:",
        "nested: true",
        "version: v2.x",
    ] {
        assert!(yaml.contains(key), "{key} lost:\n{yaml}");
    }
    assert!(yaml.find("ci-deploy:").unwrap_or(usize::MAX) < yaml.find("alice:").unwrap_or(0));
    Ok(())
}

#[test]
fn resolves_profiles() -> Result<()> {
    let config = Config::parse(SAMPLE, Path::new("c"))?;
    let current = config.resolve(None, Path::new("c"))?;
    assert_eq!(current.profile, "ci-deploy");
    assert_eq!(current.endpoint, "https://wayfinder.example.com");
    assert_eq!(current.workspace.as_deref(), Some("dev"));
    let identity = current.user.identity.expect("identity");
    assert_eq!(
        identity.refresh_token.map(|s| s.expose().to_owned()).as_deref(),
        Some("access-token-value")
    );
    let alice = config.resolve(Some("alice"), Path::new("c"))?;
    assert_eq!(alice.ca_certificate.as_deref(), Some("PEM"));
    assert_eq!(alice.api_info.map(|a| a.non_resource_api).as_deref(), Some("/api/v2"));
    let missing = config.resolve(Some("nope"), Path::new("/x/c")).expect_err("missing");
    assert!(missing.to_string().contains("\"nope\""));
    assert!(missing.to_string().contains("/x/c"));
    Ok(())
}

#[test]
fn malformed_files_name_path_and_line() {
    let e = Config::parse("profiles:\n  a: [\n", Path::new("/tmp/cfg")).expect_err("bad");
    assert_eq!(e.code(), "CONFIG");
    assert!(e.to_string().contains("/tmp/cfg"), "{e}");
    assert!(e.to_string().contains("line"), "{e}");
    let e = Config::parse("profiles: 5\n", Path::new("/tmp/cfg")).expect_err("bad type");
    assert!(e.to_string().contains("line 1"), "{e}");
    assert_eq!(
        Config::parse("profiles:\n", Path::new("c"))
            .map(|c| c.profiles.len())
            .ok(),
        Some(0)
    );
}

#[test]
fn yaml_that_cannot_be_written_back_is_refused_at_load() {
    let text = "current-profile: a\nunknown:\n  alice:\n    ? token: static\n";
    let e = Config::parse(text, Path::new("/tmp/cfg")).expect_err("complex key");
    assert_eq!(e.code(), "CONFIG");
    assert!(e.to_string().contains("/tmp/cfg"), "{e}");
}

#[test]
fn malformed_error_does_not_echo_secret_content() {
    for text in [
        "users:\n  a:\n    token: [secret-canary\n",
        "users:\n  a: \"secret-canary\"\n",
        "users: {a: {identity: secret-canary}}\n",
        "current-profile: [secret-canary]\n",
    ] {
        let e = Config::parse(text, Path::new("c")).expect_err("bad");
        assert!(!e.to_string().contains("secret-canary"), "{e}");
        assert!(e.to_string().contains("line"), "{e}");
    }
}

#[test]
fn update_writes_atomically_0600_and_skips_no_op_saves() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
    let path = dir.path().join("sub").join("config");
    update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
        c.set_profile("a", "https://a.example.com", &Secret::new("t"), Some("dev"), false);
        Ok(())
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("sub")), 0o700);
    }
    let before = fs::metadata(&path).and_then(|m| m.modified()).ok();
    std::thread::sleep(Duration::from_millis(20));
    update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
        c.set_profile("a", "https://a.example.com", &Secret::new("t"), Some("dev"), false);
        Ok(())
    })?;
    assert_eq!(
        fs::metadata(&path).and_then(|m| m.modified()).ok(),
        before,
        "no-op save wrote"
    );
    let config = Config::load(&path)?;
    assert_eq!(config.current_profile.as_deref(), Some("a"));
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("sub"))
        .map_err(|e| Error::config(e.to_string()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}

#[test]
fn malformed_file_is_never_overwritten() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
    let path = dir.path().join("config");
    fs::write(&path, "profiles: [oops\n").map_err(|e| Error::config(e.to_string()))?;
    let err = update(&path, DEFAULT_LOCK_TIMEOUT, |_| Ok(())).expect_err("malformed");
    assert_eq!(err.code(), "CONFIG");
    assert_eq!(fs::read_to_string(&path).ok().as_deref(), Some("profiles: [oops\n"));
    Ok(())
}

#[test]
fn a_held_lock_times_out_naming_the_path() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
    let path = dir.path().join("config");
    let _held = ConfigLock::acquire(&path, DEFAULT_LOCK_TIMEOUT)?;
    let err = update(&path, Duration::from_millis(100), |_| Ok(())).expect_err("locked");
    assert!(err.to_string().contains("config.lock"), "{err}");
    Ok(())
}

#[test]
fn default_path_prefers_env() -> Result<()> {
    let env = |k: &str| match k {
        "WAYFINDER_CONFIG" => Some("/etc/wf".to_owned()),
        _ => None,
    };
    assert_eq!(default_path(&env)?, PathBuf::from("/etc/wf"));
    let home = |k: &str| (k == "HOME").then(|| "/home/u".to_owned());
    assert_eq!(default_path(&home)?, PathBuf::from("/home/u/.wayfinder/config"));
    Ok(())
}
