"""A test app that fails the ways apps fail, chosen by its task's index in the deal.

0  raises an exception (exit status 1, no computed.json)
1  loops forever (until the sandbox's wall clock stops it)
2  exits cleanly without writing computed.json
3  behaves: writes "fine" and its computed.json
"""

import json
import os
import sys

index = int(os.environ["IEXEC_BOT_TASK_INDEX"]) % 4
out = os.environ["IEXEC_OUT"]
if index == 0:
    raise RuntimeError("the app crashed on purpose")
if index == 1:
    while True:
        pass
if index == 2:
    sys.exit(0)
with open(os.path.join(out, "result.txt"), "w") as file:
    file.write("fine\n")
with open(os.path.join(out, "computed.json"), "w") as file:
    json.dump({"deterministic-output-path": os.path.join(out, "result.txt")}, file)
