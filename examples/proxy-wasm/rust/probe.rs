// A proxy-wasm function with id "probe" for L8's tests: each path exercises one behaviour
// of the host (see examples/proxy-wasm/README.md for the table).
#[path = "proxy.rs"]
mod proxy;

pub const ID: &str = "probe";

extern "C" {
    // Not implemented by L8: answers Unimplemented (12).
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
}

/// Module-level state: fresh-state functions see 1 on every request.
static mut CALLS: u32 = 0;
/// Never set: /spin loops until the host stops it.
static mut STOP: bool = false;

fn ok(body: &str) -> u32 {
    proxy::set_buffer(proxy::RESPONSE_BODY, body.as_bytes());
    proxy::CONTINUE
}

pub fn on_request_headers(_headers: usize, _end_of_stream: bool) -> u32 {
    let target = proxy::header(proxy::REQUEST_HEADERS, ":path").unwrap_or_default();
    let mut parts = target.splitn(2, '?');
    let path = parts.next().unwrap_or("").to_string();
    let query = parts.next().unwrap_or("").to_string();
    let get = |name: &str| proxy::param(&query, name).map(proxy::decode);
    match path.as_str() {
        "/global" => {
            let calls = unsafe {
                CALLS += 1;
                CALLS
            };
            ok(&calls.to_string())
        }
        "/trap" => panic!("the probe was asked to trap"),
        "/spin" => {
            // A volatile read the compiler cannot fold away: this loop runs until stopped.
            let mut spins: u64 = 0;
            while !unsafe { std::ptr::read_volatile(&*std::ptr::addr_of!(STOP)) } {
                spins = spins.wrapping_add(1);
            }
            ok(&spins.to_string())
        }
        "/grow" => {
            let mb: usize = get("mb").and_then(|v| v.parse().ok()).unwrap_or(1);
            let mut block = vec![0u8; mb << 20];
            for i in (0..block.len()).step_by(4096) {
                block[i] = 1;
            }
            ok(&format!("grew {}", block.iter().filter(|b| **b == 1).count() / 256))
        }
        "/unimplemented" => {
            let status = unsafe { proxy_set_tick_period_milliseconds(1000) };
            ok(&format!("status {}", status))
        }
        "/headers" => {
            let value = proxy::header(proxy::REQUEST_HEADERS, "x-probe").unwrap_or_default();
            proxy::add_header(proxy::RESPONSE_HEADERS, "x-probe-echo", &value);
            proxy::add_header(proxy::RESPONSE_HEADERS, ":status", "201");
            ok(&format!("{} {}", proxy::header(proxy::REQUEST_HEADERS, ":method").unwrap_or_default(), value))
        }
        "/local" => {
            proxy::send_response(418, b"short and stout", &[("x-local", "yes")]);
            proxy::PAUSE
        }
        "/pause" => {
            proxy::log(proxy::LOG_ERROR, "the probe pauses without answering");
            proxy::PAUSE
        }
        "/log" => {
            proxy::log(proxy::LOG_INFO, "probe log line");
            println!("probe stdout line");
            ok("logged")
        }
        "/state" => match proxy::get_state(&get("store").unwrap_or_default(), &get("key").unwrap_or_default()) {
            Ok(value) => ok(&String::from_utf8_lossy(&value)),
            Err(status) => {
                proxy::send_response(500, format!("status {}", status).as_bytes(), &[]);
                proxy::PAUSE
            }
        },
        "/invoke" => {
            let target = get("target").unwrap_or_default();
            let method = get("method").unwrap_or_default();
            let param = get("param").unwrap_or_default();
            match proxy::invoke_service(&target, &method, param.as_bytes()) {
                Ok(value) => ok(&String::from_utf8_lossy(&value)),
                Err(status) => {
                    proxy::send_response(502, format!("status {}", status).as_bytes(), &[]);
                    proxy::PAUSE
                }
            }
        }
        _ => {
            proxy::send_response(404, format!("no probe behaviour at {}", path).as_bytes(), &[]);
            proxy::PAUSE
        }
    }
}

pub fn on_request_body(_size: usize, _end_of_stream: bool) -> u32 {
    proxy::CONTINUE
}
