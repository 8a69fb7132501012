//! The config file under contention and crashes: 32 processes saving
//! different profiles at once lose no update; 200 writers killed with
//! SIGKILL at a random moment always leave a file that loads (the old or the
//! new content, never a mix) and no lock that blocks the next writer.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wayfinder_tokens::config::{self, Config};
use wayfinder_tokens::{IssuedToken, Secret};

fn token(name: &str) -> IssuedToken {
    IssuedToken {
        name: name.to_owned(),
        workspace: Some("dev".into()),
        server: "https://wf.example.com".into(),
        description: None,
        token: Some(Secret::new(format!("secret-{name}"))),
        expires: None,
        resource: Default::default(),
    }
}

/// This test binary again, running only the ignored test `test` of this module.
fn child(test: &str, path: &Path, profile: &str) -> Command {
    // libtest names a test by its path below the crate root.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            &format!("{module}::{test}"),
            "--ignored",
            "--quiet",
            "--test-threads",
            "1",
        ])
        .env("WF_TEST_CONFIG", path)
        .env("WF_TEST_PROFILE", profile)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Child: saves one profile.
#[test]
#[ignore = "run as a child process"]
fn child_saves_one_profile() {
    let (Ok(path), Ok(name)) = (std::env::var("WF_TEST_CONFIG"), std::env::var("WF_TEST_PROFILE")) else {
        return;
    };
    config::save_profile(&token(&name), Some(Path::new(&path)), None, false, None).unwrap();
}

/// Child: saves profiles in a loop until it is killed.
#[test]
#[ignore = "run as a child process"]
fn child_saves_until_killed() {
    let (Ok(path), Ok(name)) = (std::env::var("WF_TEST_CONFIG"), std::env::var("WF_TEST_PROFILE")) else {
        return;
    };
    for i in 0.. {
        config::save_profile(
            &token(&format!("{name}-{i}")),
            Some(Path::new(&path)),
            None,
            i % 2 == 0,
            None,
        )
        .unwrap();
    }
}

#[test]
fn thirty_two_processes_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, "unknown-key: kept\n").unwrap();
    let children: Vec<_> = (0..32)
        .map(|i| {
            child("child_saves_one_profile", &path, &format!("p{i}"))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let config = Config::load(&path).unwrap();
    assert_eq!(config.profiles.len(), 32);
    for i in 0..32 {
        let user = &config.users[&format!("p{i}")];
        assert_eq!(
            user.identity.as_ref().unwrap().refresh_token.as_ref().unwrap().expose(),
            format!("secret-p{i}")
        );
    }
    assert!(config.extra.contains_key("unknown-key"));
    println!("32 processes saved 32 profiles; all 32 present");
}

/// A pseudo-random delay in [1, 25) ms (no RNG dependency needed for this).
fn jitter(run: u32) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    Duration::from_micros(1000 + u64::from(nanos.wrapping_mul(2_654_435_761).wrapping_add(run) % 24_000))
}

#[test]
fn writers_killed_at_random_never_corrupt_the_file_or_leave_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    config::save_profile(&token("seed"), Some(&path), None, true, None).unwrap();
    let started = Instant::now();
    let mut profiles_seen = 0;
    for run in 0..200 {
        let mut writer = child("child_saves_until_killed", &path, &format!("run{run}"))
            .spawn()
            .unwrap();
        std::thread::sleep(jitter(run));
        writer.kill().unwrap(); // SIGKILL
        writer.wait().unwrap();
        let config = Config::load(&path).unwrap_or_else(|e| panic!("run {run}: the file does not load: {e}"));
        assert!(
            config.profiles.contains_key("seed"),
            "run {run}: an earlier profile was lost"
        );
        profiles_seen = config.profiles.len();
        // The next writer gets the lock at once: a dead process holds none.
        config::update(&path, Duration::from_secs(2), |c| {
            c.version = Some(format!("v2-{run}"));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("run {run}: {e}"));
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp files of killed writers were not cleaned up: {leftovers:?}"
    );
    println!(
        "200 writers killed at random; the file always loaded ({profiles_seen} profiles at the end); \
         no lock was left, no temp file stayed; {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
