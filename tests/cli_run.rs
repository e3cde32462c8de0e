//! `tally run` end to end: output, exit codes, and determinism across processes.

use std::process::{Command, Output};

fn tally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .output()
        .expect("tally binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("--json prints one JSON object")
}

fn write_temp(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tally-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn example_runs_with_exact_gas_and_result() {
    let out = tally(&["run", "examples/sum.wat", "--input", "0xe8030000", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["status"], "success");
    // 500500 as a little-endian u64.
    assert_eq!(v["return_data"], "0x14a3070000000000");
    assert_eq!(v["gas_used"], 376_981);
    assert_eq!(v["trap"], serde_json::Value::Null);
    // Instantiation (7572 + 1 page * 319077 + 9 code words * 2) + 3 host calls; the rest is
    // instructions (47 per loop iteration).
    assert_eq!(v["gas"]["instantiation"], 326_667);
    assert_eq!(
        v["gas"]["host"]["input_size"],
        serde_json::json!({ "calls": 1, "gas": 325 })
    );
    assert_eq!(
        v["gas"]["host"]["input_read"],
        serde_json::json!({ "calls": 1, "gas": 390 })
    );
    assert_eq!(
        v["gas"]["host"]["set_return"],
        serde_json::json!({ "calls": 1, "gas": 456 })
    );
    assert_eq!(
        v["gas"]["instructions"],
        376_981 - 326_667 - 325 - 390 - 456
    );
}

#[test]
fn two_processes_give_identical_results() {
    let args = [
        "run",
        "examples/sum.wat",
        "--input",
        "0x10270000",
        "--json",
        "--gas-limit",
        "1000000",
    ];
    let a = tally(&args);
    let b = tally(&args);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(json(&a)["gas_used"], json(&b)["gas_used"]);
}

#[test]
fn trap_exits_3_with_the_trap_kind() {
    let out = tally(&[
        "run",
        "examples/sum.wat",
        "--input",
        "0x10270000",
        "--gas-limit",
        "500000",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let v = json(&out);
    assert_eq!(v["status"], "trap");
    assert_eq!(v["trap"]["kind"], "out_of_gas");
    assert_eq!(v["gas_used"], 500_000);
}

#[test]
fn text_output_names_outcome_and_gas() {
    let out = tally(&["run", "examples/sum.wat"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("outcome:     success"), "{text}");
    assert!(
        text.contains("gas used:    328047 (limit 10000000)"),
        "{text}"
    );
    assert!(text.contains("return data: 0x3700000000000000"), "{text}");
}

#[test]
fn invalid_module_exits_1_with_a_clear_message() {
    let path = write_temp(
        "float.wat",
        br#"(module (func (export "call") (drop (f32.const 1))))"#,
    );
    let out = tally(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: invalid contract:"), "{err}");
    assert!(err.contains("f32.const"), "{err}");
}

#[test]
fn garbage_and_missing_files_exit_1() {
    let path = write_temp("garbage.wasm", b"\0asm\x01\0\0\0\xff\xff");
    let out = tally(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: invalid contract:"));

    let out = tally(&["run", "does-not-exist.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read does-not-exist.wasm"));

    let out = tally(&["run", "examples/sum.wat", "--input", "0xzz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--input is not valid hex"));
}

#[test]
fn schedule_round_trips_through_the_cli() {
    let out = tally(&["schedule"]);
    assert!(out.status.success());
    let mut schedule: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Make host calls to set_return cost 1000 more and check the run reflects it.
    let base = schedule["host"]["set_return"]["base"].as_u64().unwrap();
    schedule["host"]["set_return"]["base"] = (base + 1000).into();
    let path = write_temp("schedule.json", schedule.to_string().as_bytes());
    let out = tally(&[
        "run",
        "examples/sum.wat",
        "--json",
        "--schedule",
        path.to_str().unwrap(),
    ]);
    assert_eq!(json(&out)["gas_used"], 328_047 + 1000);
}
