# Sourced by the real-lab test scripts (tests/programs, tests/tailscaled):
# program_dirs_left_behind prints the program nodes' working directories a
# finished lab left behind — the old /tmp/punchlab-programs-* ones, and
# /tmp/plab<pid>x<n>-tmp/programs (in the lab's own directory) whose creating
# process is gone — and nothing when every one went with its lab.
program_dirs_left_behind() {
  local left d pid
  left=$(ls -d /tmp/punchlab-programs-* 2> /dev/null)
  for d in /tmp/plab*x*-tmp/programs; do
    [ -e "$d" ] || continue
    pid=${d#/tmp/plab}
    [ -d "/proc/${pid%%x*}" ] || left="$left $d"
  done
  echo $left
}
