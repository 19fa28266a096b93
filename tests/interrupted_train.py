"""Launched by tests/test_resume.py: `python tests/interrupted_train.py STEP SIGNAL [xenc flags]`.

Runs `xenc.train.main` and sends itself SIGNAL (INT or KILL) at the end of optimizer step STEP, between checkpoints,
as a Ctrl-C or an out-of-memory kill would.
"""

import os
import signal
import sys

from transformers import TrainerCallback

from xenc.train import main, parse_args


class StopAt(TrainerCallback):
    def __init__(self, step: int, sig: signal.Signals):
        self.step, self.sig = step, sig

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), self.sig)


if __name__ == "__main__":
    # Ctrl-C as in a terminal: a process started in the background by a non-interactive shell inherits SIGINT
    # ignored, and Python then never turns SIGINT into KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    step, sig = int(sys.argv[1]), getattr(signal, f"SIG{sys.argv[2]}")
    main(*parse_args(sys.argv[3:]), callbacks=[StopAt(step, sig)])
