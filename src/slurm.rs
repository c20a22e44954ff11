//! Slurm job arrays: a sweep's or a study's unfinished runs as one `sbatch` array.
//!
//! `heldout sweep ... --slurm` and `heldout study ... --slurm` run nothing themselves. They write,
//! in the `slurm/` folder of the sweep's directory, a manifest ([`MANIFEST_FILE`]: one row per
//! unfinished run, with its array index, name, directory and shell-quoted `heldout train`
//! command) and an `sbatch` script ([`SCRIPT_FILE`]) whose array task `i` runs the row with index
//! `i`, appending its output to the run's `train.log`. Every run is started with
//! `--resume-or-start`, so a preempted or failed task goes on from the run's last checkpoint when
//! it is requeued or submitted again; a second `--slurm` lists only the runs still unfinished,
//! and the sweep or study run again without `--slurm` summarises the finished ones.
//!
//! The run directories, the manifest and the working directory the command was given in must be
//! visible at the same paths on the compute nodes (a shared file system). Submit a new array only
//! once no task of the previous one is still pending or running: it rewrites the manifest those
//! tasks read.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::paths::RESULT_FILE;
use crate::sweep::{PlannedRun, sanitize, shell_quote};

/// The folder of a sweep's directory that holds its job array.
pub const SLURM_DIR: &str = "slurm";
/// The manifest: a header line, then `index`, `run`, `dir` and `command`, tab-separated.
pub const MANIFEST_FILE: &str = "manifest.tsv";
/// The `sbatch` script.
pub const SCRIPT_FILE: &str = "array.sbatch";
/// The folder (in [`SLURM_DIR`]) of each task's own Slurm output: which run it took, or why it
/// took none.
pub const LOGS_DIR: &str = "logs";

/// How the job array is submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayOptions {
    /// The job's name (the sweep's or study's name; characters other than letters, digits and
    /// `._-` become `_`).
    pub job_name: String,
    /// Most tasks running at a time: the `K` of `--array=0-N%K`.
    pub max_running: usize,
    /// `--partition`, when given.
    pub partition: Option<String>,
    /// `--time` (a Slurm time limit, checked by [`check_time`]), when given.
    pub time: Option<String>,
    /// CPUs of each task (`--cpus-per-task`), also the run's rollout workers and the learner's
    /// threads.
    pub cpus_per_task: usize,
    /// More `#SBATCH` lines, written as given.
    pub sbatch_lines: Vec<String>,
}

impl ArrayOptions {
    /// Checks every option: at least one task at a time and one CPU per task, a partition
    /// without spaces, a time in a Slurm format, extra lines that are `#SBATCH` lines.
    pub fn validate(&self) -> Result<()> {
        ensure!(
            self.max_running >= 1,
            "--jobs must be at least 1: with --slurm it is the number of array tasks running at a time"
        );
        ensure!(self.cpus_per_task >= 1, "--cpus-per-task must be at least 1");
        if let Some(p) = &self.partition {
            ensure!(
                !p.is_empty() && !p.chars().any(char::is_whitespace),
                "--partition {p:?} is not a partition name (one name, or several separated by commas, without spaces)"
            );
        }
        if let Some(t) = &self.time {
            check_time(t)?;
        }
        for line in &self.sbatch_lines {
            ensure!(!line.contains(['\n', '\r']), "--sbatch-line {line:?} holds a line break: give each line apart");
            let option = line.strip_prefix("#SBATCH").filter(|rest| rest.starts_with([' ', '\t']));
            ensure!(
                option.is_some_and(|o| !o.trim().is_empty()),
                "--sbatch-line {line:?} is not an #SBATCH line: it must start with `#SBATCH ` and an option, \
                 e.g. '#SBATCH --mem=4G'"
            );
        }
        Ok(())
    }
}

/// Checks that `time` is a time limit `sbatch --time` takes: `minutes`, `minutes:seconds`,
/// `hours:minutes:seconds`, `days-hours`, `days-hours:minutes`, `days-hours:minutes:seconds`,
/// or `INFINITE` / `UNLIMITED`.
pub fn check_time(time: &str) -> Result<()> {
    if valid_time(time) {
        return Ok(());
    }
    bail!(
        "--time {time:?} is not a Slurm time limit: give minutes, minutes:seconds, hours:minutes:seconds, \
         days-hours, days-hours:minutes or days-hours:minutes:seconds (e.g. 90, 4:00:00, 2-00:00:00)"
    )
}

fn valid_time(time: &str) -> bool {
    if ["infinite", "unlimited"].contains(&time.to_ascii_lowercase().as_str()) {
        return true;
    }
    let number = |s: &str| if s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    let fields = |s: &str| s.split(':').map(number).collect::<Option<Vec<u64>>>();
    match time.split_once('-') {
        // days-hours[:minutes[:seconds]]
        Some((days, rest)) => {
            let (Some(_), Some(f)) = (number(days), fields(rest)) else { return false };
            f.len() <= 3 && f[0] < 24 && f[1..].iter().all(|&v| v < 60)
        }
        // minutes, minutes:seconds or hours:minutes:seconds
        None => match fields(time).as_deref() {
            Some([_]) => true,
            Some([_, s]) => *s < 60,
            Some([_, m, s]) => *m < 60 && *s < 60,
            _ => false,
        },
    }
}

/// One task of the array: a run and the command that runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The run's name.
    pub run: String,
    /// The run's directory, absolute.
    pub dir: PathBuf,
    /// The whole `heldout train ...` command line, shell-quoted.
    pub command: String,
}

/// The runs as the array's tasks run them: with `--workers cpus` (a `workers` the sweep or study
/// sets itself still wins, as `--set` overrides come after the named flags).
pub fn with_workers(runs: &[PlannedRun], cpus: usize) -> Vec<PlannedRun> {
    runs.iter()
        .map(|r| {
            let mut r = r.clone();
            let at = r.args.iter().position(|a| a == "--resume-or-start").unwrap_or(r.args.len());
            r.args.splice(at..at, ["--workers".to_string(), cpus.to_string()]);
            r
        })
        .collect()
}

/// The tasks of `runs`, run by the executable `exe` from the working directory `workdir` (run
/// directories are made absolute against it). A run whose directory or command holds a tab or
/// a line break is an error: the manifest could not hold it.
pub fn tasks(exe: &Path, runs: &[PlannedRun], workdir: &Path) -> Result<Vec<Task>> {
    runs.iter()
        .map(|r| {
            let dir = workdir.join(&r.dir);
            let command = r.command_line(exe);
            let dir_text = dir.to_str().with_context(|| format!("run directory {} is not UTF-8", dir.display()))?;
            for text in [dir_text, &command] {
                ensure!(
                    !text.contains(['\t', '\n', '\r']),
                    "run {}: {text:?} holds a tab or a line break, which the Slurm manifest cannot hold",
                    r.name
                );
            }
            Ok(Task { run: r.name.clone(), dir, command })
        })
        .collect()
}

/// The manifest of `tasks`: a header, then one tab-separated row per task, its index first.
pub fn manifest(tasks: &[Task]) -> String {
    let mut out = String::from("index\trun\tdir\tcommand\n");
    for (i, t) in tasks.iter().enumerate() {
        out.push_str(&format!("{i}\t{}\t{}\t{}\n", t.run, t.dir.display(), t.command));
    }
    out
}

/// The `sbatch` script of an array of `tasks` tasks (at least one) reading the manifest in
/// `slurm_dir` (absolute), each task starting in `workdir` (absolute, where the sweep was given:
/// relative paths in the commands are relative to it).
pub fn script(options: &ArrayOptions, tasks: usize, slurm_dir: &Path, workdir: &Path) -> String {
    assert!(tasks > 0, "an array has at least one task");
    let mut out = String::from("#!/bin/bash\n");
    let mut sbatch = |line: String| out.push_str(&format!("#SBATCH {line}\n"));
    sbatch(format!("--job-name={}", sanitize(&options.job_name)));
    sbatch(format!("--array=0-{}%{}", tasks - 1, options.max_running));
    sbatch(format!("--cpus-per-task={}", options.cpus_per_task));
    sbatch(format!("--output={}", slurm_quote(&slurm_dir.join(LOGS_DIR).join("%A_%a.out"))));
    // A requeued task (preempted, or `scontrol requeue`) adds to its file instead of replacing it.
    sbatch("--open-mode=append".to_string());
    if let Some(p) = &options.partition {
        sbatch(format!("--partition={p}"));
    }
    if let Some(t) = &options.time {
        sbatch(format!("--time={t}"));
    }
    for line in &options.sbatch_lines {
        out.push_str(line);
        out.push('\n');
    }
    let manifest = slurm_dir.join(MANIFEST_FILE);
    out.push_str(&format!(
        r#"
# Written by heldout (`--slurm`); submit it with `sbatch {script}`.
# Array task i runs the row of {manifest_name} whose index is i, appending its output to the
# run's train.log. A run that is already finished is skipped; any other resumes from its last
# checkpoint, so a preempted task picks up where it stopped.
set -euo pipefail
cd {workdir}
manifest={manifest}
row=$(awk -F '\t' -v i="$SLURM_ARRAY_TASK_ID" 'NR > 1 && $1 == i {{ print; exit }}' "$manifest")
if [ -z "$row" ]; then
    echo "heldout: no row with index $SLURM_ARRAY_TASK_ID in $manifest" >&2
    exit 1
fi
IFS=$'\t' read -r index run dir command <<<"$row"
if [ -e "$dir/{result}" ]; then
    echo "heldout: run $run is already finished ($dir/{result})"
    exit 0
fi
mkdir -p "$dir"
echo "heldout: task $index runs $run; its output goes to $dir/train.log"
echo "== Slurm job ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} on $(hostname) at $(date -u '+%Y-%m-%d %H:%M:%S UTC'): $command" >>"$dir/train.log"
export RAYON_NUM_THREADS={cpus}
exec >>"$dir/train.log" 2>&1 </dev/null
eval "exec $command"
"#,
        script = shell_quote(&slurm_dir.join(SCRIPT_FILE).display().to_string()),
        manifest_name = MANIFEST_FILE,
        workdir = shell_quote(&workdir.display().to_string()),
        manifest = shell_quote(&manifest.display().to_string()),
        result = RESULT_FILE,
        cpus = options.cpus_per_task,
    ));
    out
}

/// A path as one `#SBATCH` option value: in double quotes when it holds a space.
fn slurm_quote(path: &Path) -> String {
    let text = path.display().to_string();
    if text.contains(char::is_whitespace) { format!("\"{text}\"") } else { text }
}

/// The files of a job array written by [`write_array`].
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The `sbatch` script.
    pub script: PathBuf,
    /// The manifest.
    pub manifest: PathBuf,
    /// Its tasks, one per unfinished run.
    pub tasks: usize,
}

/// Writes the job array of the unfinished ones of `runs` (as [`with_workers`] gave them) into
/// `slurm_dir`, atomically, with the folder for the tasks' Slurm output: the manifest and the
/// script, run by the executable `exe` from `workdir`. With every run finished it writes nothing
/// and returns `None`.
pub fn write_array(
    slurm_dir: &Path,
    exe: &Path,
    runs: &[PlannedRun],
    workdir: &Path,
    options: &ArrayOptions,
) -> Result<Option<Written>> {
    options.validate()?;
    ensure!(exe.is_absolute() && workdir.is_absolute(), "the executable and the working directory must be absolute");
    let unfinished: Vec<PlannedRun> = runs.iter().filter(|r| !r.is_finished()).cloned().collect();
    if unfinished.is_empty() {
        return Ok(None);
    }
    let tasks = tasks(exe, &unfinished, workdir)?;
    let abs_dir = workdir.join(slurm_dir);
    let logs = abs_dir.join(LOGS_DIR);
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let manifest_path = slurm_dir.join(MANIFEST_FILE);
    crate::atomic::write(&manifest_path, manifest(&tasks).as_bytes())?;
    let script_path = slurm_dir.join(SCRIPT_FILE);
    crate::atomic::write(&script_path, script(options, tasks.len(), &abs_dir, workdir).as_bytes())?;
    Ok(Some(Written { script: script_path, manifest: manifest_path, tasks: tasks.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, plan};

    fn options() -> ArrayOptions {
        ArrayOptions {
            job_name: "sni sweep".into(),
            max_running: 2,
            partition: Some("cpu".into()),
            time: Some("1:30:00".into()),
            cpus_per_task: 4,
            sbatch_lines: vec!["#SBATCH --mem=4G".into(), "#SBATCH --qos=low".into()],
        }
    }

    fn runs(dir: &Path) -> Vec<PlannedRun> {
        let axes = [Axis::parse("sni_lambda=0,0.5").unwrap()];
        let base = ["--preset".to_string(), "multiroom".into(), "--set".into(), "env.kind=\"multiroom\"".into()];
        with_workers(&plan(&dir.join("runs/s"), &axes, 2, 1, &base), 4)
    }

    #[test]
    fn times_in_every_slurm_format_pass_and_others_are_clear_errors() {
        for t in ["90", "0", "30:00", "4:00:00", "100:00:00", "2-0", "2-12", "2-12:30", "1-00:00:00", "UNLIMITED"] {
            check_time(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
        for t in ["", "1h", "1:2:3:4", "1:60", "1:60:00", "2-24", "2-1:00:60", "-1", "1-", "1.5", "2 days", "a:b"] {
            let e = check_time(t).unwrap_err().to_string();
            assert!(e.contains("not a Slurm time limit") && e.contains("days-hours"), "{t}: {e}");
        }
    }

    #[test]
    fn bad_options_are_clear_errors() {
        options().validate().unwrap();
        let err = |o: ArrayOptions| o.validate().unwrap_err().to_string();
        assert!(err(ArrayOptions { max_running: 0, ..options() }).contains("--jobs must be at least 1"));
        assert!(err(ArrayOptions { cpus_per_task: 0, ..options() }).contains("--cpus-per-task"));
        assert!(err(ArrayOptions { time: Some("soon".into()), ..options() }).contains("--time \"soon\""));
        assert!(err(ArrayOptions { partition: Some("a b".into()), ..options() }).contains("--partition"));
        for line in
            ["--mem=4G", "SBATCH --mem=4G", "#SBATCH", "#SBATCH   ", "#SBATCH--mem=4G", "#SBATCH --a\n#SBATCH --b"]
        {
            let e = err(ArrayOptions { sbatch_lines: vec![line.into()], ..options() });
            assert!(e.contains("--sbatch-line") && e.contains("#SBATCH"), "{line:?}: {e}");
        }
    }

    #[test]
    fn runs_get_one_worker_per_cpu_unless_they_set_workers() {
        let r = &runs(Path::new("x"))[0];
        assert!(r.args.windows(2).any(|w| w == ["--workers", "4"]), "{:?}", r.args);
        assert_eq!(r.args.last().map(String::as_str), Some("--quiet"));
    }

    #[test]
    fn the_manifest_has_a_row_per_run_with_its_quoted_command() {
        let runs = runs(Path::new(""));
        let tasks = tasks(Path::new("/opt/heldout bin/heldout"), &runs, Path::new("/work")).unwrap();
        let text = manifest(&tasks);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(lines[0], "index\trun\tdir\tcommand");
        let cells: Vec<&str> = lines[2].split('\t').collect();
        assert_eq!(cells[..3], ["1", "sni_lambda-0_seed-2", "/work/runs/s/sni_lambda-0_seed-2"]);
        assert_eq!(
            cells[3],
            "'/opt/heldout bin/heldout' train --preset multiroom --set 'env.kind=\"multiroom\"' --set sni_lambda=0 \
             --seed 2 --name sni_lambda-0_seed-2 --run-dir runs/s/sni_lambda-0_seed-2 --workers 4 \
             --resume-or-start --quiet"
        );
        assert!(lines[4].starts_with("3\tsni_lambda-0.5_seed-2\t"));

        let mut bad = runs[0].clone();
        bad.args.push("a\tb".into());
        let e = super::tasks(Path::new("/h"), &[bad], Path::new("/w")).unwrap_err().to_string();
        assert!(e.contains("tab or a line break"), "{e}");
    }

    #[test]
    fn the_script_selects_its_row_with_the_options_given() {
        let text = script(&options(), 4, Path::new("/w/runs/s/slurm"), Path::new("/w"));
        let head: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(
            head,
            [
                "#!/bin/bash",
                "#SBATCH --job-name=sni_sweep",
                "#SBATCH --array=0-3%2",
                "#SBATCH --cpus-per-task=4",
                "#SBATCH --output=/w/runs/s/slurm/logs/%A_%a.out",
                "#SBATCH --open-mode=append",
                "#SBATCH --partition=cpu",
                "#SBATCH --time=1:30:00",
                "#SBATCH --mem=4G",
                "#SBATCH --qos=low",
            ]
        );
        for needed in [
            "cd /w\n",
            "manifest=/w/runs/s/slurm/manifest.tsv\n",
            "$1 == i",
            "export RAYON_NUM_THREADS=4\n",
            "exec >>\"$dir/train.log\" 2>&1 </dev/null\n",
            "eval \"exec $command\"\n",
            "if [ -e \"$dir/result.toml\" ]",
        ] {
            assert!(text.contains(needed), "{needed:?} missing from\n{text}");
        }
        let one = script(
            &ArrayOptions { partition: None, time: None, sbatch_lines: vec![], ..options() },
            1,
            Path::new("/a b/slurm"),
            Path::new("/a b"),
        );
        assert!(one.contains("#SBATCH --array=0-0%2\n") && !one.contains("--partition") && !one.contains("--time"));
        assert!(
            one.contains("#SBATCH --output=\"/a b/slurm/logs/%A_%a.out\"\n") && one.contains("cd '/a b'\n"),
            "{one}"
        );
    }

    #[test]
    fn an_array_lists_only_unfinished_runs_and_none_when_all_are_done() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = runs(tmp.path());
        let slurm = tmp.path().join("runs/s").join(SLURM_DIR);
        let exe = Path::new("/bin/heldout");
        std::fs::create_dir_all(&runs[1].dir).unwrap();
        std::fs::write(runs[1].dir.join(RESULT_FILE), "").unwrap();
        let written = write_array(&slurm, exe, &runs, tmp.path(), &options()).unwrap().unwrap();
        assert_eq!(written.tasks, 3);
        let manifest = std::fs::read_to_string(&written.manifest).unwrap();
        assert_eq!(manifest.lines().count(), 4);
        assert!(!manifest.contains(&runs[1].name), "{manifest}");
        assert!(std::fs::read_to_string(&written.script).unwrap().contains("--array=0-2%2"));
        assert!(slurm.join(LOGS_DIR).is_dir(), "Slurm does not create the folder of --output");

        for r in &runs {
            std::fs::create_dir_all(&r.dir).unwrap();
            std::fs::write(r.dir.join(RESULT_FILE), "").unwrap();
        }
        std::fs::remove_dir_all(&slurm).unwrap();
        assert_eq!(write_array(&slurm, exe, &runs, tmp.path(), &options()).unwrap(), None);
        assert!(!slurm.exists(), "nothing written when every run is finished");
    }
}
