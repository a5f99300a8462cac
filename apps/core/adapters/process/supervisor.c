/*
 * eda-supervise STATUS_FILE PROGRAM [ARGUMENT...]
 *
 * The process runtime's supervisor: it runs PROGRAM as its child, waits for it, and writes how
 * it ended to STATUS_FILE as one line, "exit N" (the code the program chose) or "signal N" (the
 * signal that ended it). A shell's `$?` cannot tell exit(137) from SIGKILL; waitpid can. The file
 * outlives the stack, so a restarted stack learns the end of a task that ended while no stack ran
 * (a process that is not one's child cannot be waited for). Compiled by `npm run build`
 * (scripts/build-supervisor.mjs) with the system's `cc`; without one the runtime falls back to
 * a shell (apps/core/adapters/process/supervisor.ts says what that loses).
 *
 * It catches (does not ignore: an ignored signal stays ignored across exec) the signals a stop
 * sends its process group, so that it outlives its program and writes the status; SIGKILL to the
 * group takes it too, and the runtime records that end itself. The environment is passed on as
 * it came: exactly the spec's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_signal(int signo) { (void)signo; }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: eda-supervise STATUS_FILE PROGRAM [ARGUMENT...]\n");
    return 2;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  /* Held back across the fork: a stop that comes before the exec reaches the child by default. */
  sigset_t stops, before;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGHUP);
  sigprocmask(SIG_BLOCK, &stops, &before);

  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "eda-supervise: fork: %s\n", strerror(errno));
    return 2;
  }
  if (child == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "eda-supervise: %s: %s\n", argv[2], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }

  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "eda-supervise: waitpid: %s\n", strerror(errno));
      return 2;
    }
  }

  char line[32];
  int code;
  if (WIFSIGNALED(status)) {
    /* As a shell says it, to the container's log: its last line then tells why it ended. */
    if (WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGPIPE) fprintf(stderr, "%s\n", strsignal(WTERMSIG(status)));
    snprintf(line, sizeof line, "signal %d\n", WTERMSIG(status));
    code = 128 + WTERMSIG(status);
  } else {
    snprintf(line, sizeof line, "exit %d\n", WEXITSTATUS(status));
    code = WEXITSTATUS(status);
  }
  /* One write, its newline last: a reader takes only a whole line, so no rename is needed. */
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t ignored = write(fd, line, strlen(line));
    (void)ignored;
    close(fd);
  }
  return code;
}
