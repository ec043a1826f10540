"""The start notebook's environment check."""

import pytest

from helpers.environment import check_environment, pinned_requirements


def test_the_course_environment_matches_its_pins():
    assert check_environment() == []


def test_pins_apply_markers(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text('numpy==2.4.6\nnot-here==1.0; sys_platform == "nowhere"\n# comment\n')
    assert pinned_requirements(req) == {"numpy": "2.4.6"}


def test_a_missing_or_wrong_package_is_reported(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("numpy==0.0.1\nsurely-not-installed-pkg==1.0\n")
    problems = check_environment(req)
    assert any("numpy" in p and "0.0.1" in p for p in problems)
    assert any("surely-not-installed-pkg is not installed" in p for p in problems)


def test_an_unpinned_line_names_the_argument(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match="path"):
        pinned_requirements(req)
