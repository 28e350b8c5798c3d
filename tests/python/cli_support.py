"""Running the CLI in-process for tests: exit status, stdout, stderr; never a traceback."""

from cadence.cli import main


def run(capsys, *argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err
