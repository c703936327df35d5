//! `haul-cli` through real proxies started by the tests (microsocks, tinyproxy): SOCKS5 with
//! names resolved by the proxy, HTTP proxies with and without a password, and each failure
//! naming the proxy.

use crate::cli::{json_lines, run, s};
use crate::support::{Server, body};
use haul_testkit::tools::{free_port, have, microsocks, start_proxy, tinyproxy, tool_from_env};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5h_goes_through_the_proxy_and_its_failures_name_the_proxy() {
    if !have("microsocks") {
        return;
    }
    let server = Server::start().await;
    let proxy = microsocks("haul", "s3cret").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .map(str::to_owned)
        .expect("port");
    // `localhost`: with socks5h the proxy resolves it, and its log shows the name.
    let url = format!("http://localhost:{port}/bytes/5000/via-socks.bin");
    let fetch = |proxy_url: String| {
        let (url, dest) = (url.clone(), dir.path().join("d").display().to_string());
        async move {
            run(
                vec![
                    s("--json"),
                    s("--retries"),
                    s("0"),
                    s("-o"),
                    dest,
                    s("-x"),
                    proxy_url,
                    url,
                ],
                None,
            )
            .await
        }
    };
    let output = fetch(format!("socks5h://haul:s3cret@127.0.0.1:{}", proxy.port)).await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read(dir.path().join("d/via-socks.bin")).expect("file"),
        body(5000)
    );
    let log = proxy.log();
    assert!(
        log.contains("localhost"),
        "the proxy resolved the name: {log}"
    );

    let output = fetch(format!("socks5h://haul:wrong@127.0.0.1:{}", proxy.port)).await;
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().expect("an error").to_owned();
    assert!(
        error.contains("refused the user name or password")
            && error.contains(&format!("socks5h://haul:***@127.0.0.1:{}", proxy.port))
            && !error.contains("wrong"),
        "{error}"
    );

    let dead = free_port();
    let output = fetch(format!("socks5h://127.0.0.1:{dead}")).await;
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().expect("an error").to_owned();
    assert!(
        error.contains("cannot connect to the proxy")
            && error.contains(&format!("127.0.0.1:{dead}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_proxy_with_a_password_carries_the_download() {
    if !have("tinyproxy") {
        return;
    }
    let server = Server::start().await;
    let proxy = tinyproxy("haul", "pw").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(
        vec![
            s("-q"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("-x"),
            format!("http://haul:pw@127.0.0.1:{}", proxy.port),
            server.url("/bytes/3000/via-http.bin"),
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read(dir.path().join("d/via-http.bin")).expect("file"),
        body(3000)
    );
    let log = proxy.log();
    assert!(
        log.contains("/bytes/3000/via-http.bin"),
        "the proxy carried the request: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_http_proxy_is_named_in_the_error() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dead = free_port();
    let output = run(
        vec![
            s("--json"),
            s("--retries"),
            s("0"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("-x"),
            format!("http://me:pw@127.0.0.1:{dead}"),
            server.url("/bytes/10/a.bin"),
        ],
        None,
    )
    .await;
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().expect("an error").to_owned();
    assert!(
        error.contains("cannot connect to the proxy")
            && error.contains(&format!("http://me:***@127.0.0.1:{dead}"))
            && !error.contains(":pw@"),
        "{error}"
    );
    assert_eq!(server.requests(), 0, "the server was never reached");
}

/// proxy.py (PyPI, beside aria2p in `HAUL_PYTHON`'s venv) answers a wrong password with 407,
/// as an HTTP proxy should (tinyproxy 1.11 says 401).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_proxy_that_refuses_the_password_is_named_and_the_right_one_carries() {
    let Some(python) = tool_from_env("HAUL_PYTHON", "HAUL_REQUIRE_ARIA2P", "a venv with proxy.py")
    else {
        return;
    };
    let proxy_bin = Path::new(&python).with_file_name("proxy");
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = start_proxy(&proxy_bin, "proxy.stderr", |port, _| {
        let port = port.to_string();
        [
            "--hostname",
            "127.0.0.1",
            "--port",
            &port,
            "--basic-auth",
            "haul:pw",
        ]
        .map(str::to_owned)
        .to_vec()
    })
    .await;
    let port = proxy.port;
    let fetch = |password: &str| {
        let args = vec![
            s("--json"),
            s("--retries"),
            s("0"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("-x"),
            format!("http://haul:{password}@127.0.0.1:{port}"),
            server.url("/bytes/2000/via-proxy-py.bin"),
        ];
        async move { run(args, None).await }
    };
    let output = fetch("wrong").await;
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().expect("an error").to_owned();
    assert!(
        error.contains("the proxy refused the user name or password")
            && error.contains(&format!("http://haul:***@127.0.0.1:{port}"))
            && !error.contains("wrong"),
        "{error}"
    );
    let output = fetch("pw").await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read(dir.path().join("d/via-proxy-py.bin")).expect("file"),
        body(2000)
    );
    // Dropped, it leaves no worker behind (they outlived the kill of their parent).
    drop(proxy);
    #[cfg(unix)]
    {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let left = std::process::Command::new("pgrep")
            .args(["-f", "--", &format!("--port {port} ")])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        assert!(left.trim().is_empty(), "proxy.py processes left: {left}");
    }
}
