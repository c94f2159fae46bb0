"""The public API's docstrings: every name of `kerasdream.__all__` says what
its arguments are, what it returns and how it is used, and its example is
valid Python that only names things kerasdream has."""

import ast
import inspect
import re
import textwrap

import pytest

import kerasdream as kd

SECTION = re.compile(r"^(\w[\w ]*):\s*$", flags=re.M)


def public_objects():
    for name in kd.__all__:
        yield name, getattr(kd, name)


def docstring_of(obj) -> str:
    """The docstring the API pages show: a class's own plus its `__init__`'s."""
    text = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and "__init__" in vars(obj):
        text += "\n" + (inspect.getdoc(obj.__init__) or "")
    return text


def sections(text: str) -> dict[str, str]:
    """Google-style sections (`Args:`, `Example:` ...) and their indented bodies."""
    found = {}
    matches = list(SECTION.finditer(text))
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following else len(text)
        found[match.group(1)] = text[match.end():end]
    return found


def parameters(obj) -> list[str]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [name for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def documented_arguments(body: str) -> list[str]:
    return re.findall(r"^ {4}(\w+)(?: \([^)]*\))?:", body, flags=re.M)


def example_code(body: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", textwrap.dedent(body), flags=re.S)
    return "\n".join(textwrap.dedent(block) for block in blocks)


@pytest.mark.parametrize("name, obj", list(public_objects()), ids=kd.__all__)
def test_every_argument_is_documented_and_every_documented_one_exists(name, obj):
    found = sections(docstring_of(obj))
    wanted = parameters(obj)
    if wanted:
        assert "Args" in found, f"{name} takes {wanted} but has no Args: section"
    documented = documented_arguments(found.get("Args", ""))
    assert set(documented) <= set(wanted) | {"**kwargs", "kwargs"}, \
        f"{name} documents arguments it does not take: {sorted(set(documented) - set(wanted))}"
    assert set(wanted) <= set(documented), \
        f"{name} does not document: {sorted(set(wanted) - set(documented))}"


@pytest.mark.parametrize("name, obj", list(public_objects()), ids=kd.__all__)
def test_every_function_says_what_it_returns(name, obj):
    if inspect.isclass(obj):
        return
    found = sections(docstring_of(obj))
    assert "Returns" in found or "Yields" in found, f"{name} has no Returns: section"


@pytest.mark.parametrize("name, obj", list(public_objects()), ids=kd.__all__)
def test_every_example_is_python_that_names_only_what_kerasdream_has(name, obj):
    found = sections(docstring_of(obj))
    assert "Example" in found, f"{name} has no Example: section"
    code = example_code(found["Example"])
    assert code.strip(), f"{name}'s example has no ```python block"
    tree = ast.parse(code)  # a SyntaxError fails the test with the line
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "kd"}
    assert used <= set(kd.__all__), f"{name}'s example uses kd.{sorted(used - set(kd.__all__))}"
