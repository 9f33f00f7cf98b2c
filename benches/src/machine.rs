//! The machine: pinning threads to cores, and what to say about it in the report.

/// Pins the calling thread (and the threads it starts later) to `core`.
///
/// The core is named directly rather than looked up among the thread's current cores: a
/// server started by the (pinned) benchmark inherits the benchmark's single core.
pub(crate) fn pin_current_thread(core: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        core_affinity::set_for_current(core_affinity::CoreId { id: core }),
        "could not pin to core {core}"
    );
    Ok(())
}

/// How many cores the machine has (not how many this thread may use: once pinned,
/// that is one).
pub(crate) fn cores() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .map(|info| {
            info.lines()
                .filter(|line| line.starts_with("processor"))
                .count()
        })
        .filter(|count| *count > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// The CPU model, from `/proc/cpuinfo`.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// CPU time (user + system) this process has used so far, in seconds, from
/// `/proc/self/stat`; used to tell whether the load generator kept up.
pub(crate) fn process_cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// CPU time (seconds) all processes have spent on the given cores so far, from
/// `/proc/stat`: set against what the server and the generator used, it shows how much
/// else was running during a measurement.
pub(crate) fn busy_seconds(cores: &[usize]) -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let mut busy = 0.0;
    for &core in cores {
        let name = format!("cpu{core}");
        let line = stat
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name.as_str()))?;
        let ticks: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let total: f64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
        busy += (total - idle) / 100.0;
    }
    Some(busy)
}

/// The ids of running processes whose command name is `name` (`redis-server`, say), so
/// their CPU time counts as the variant's rather than as noise.
pub(crate) fn pids_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}
