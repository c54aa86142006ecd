"""``zhengyun cloud [options] RESOURCE VERB [ID] [field=value …]``.

Exit status: 0 done; 1 the platform refused (its problem is printed) or a waited-for resource
ended in error; 2 the command itself was wrong and nothing was sent; 3 the platform did not
answer.
"""

import argparse
import os
import sys
import time
import urllib.parse
from pathlib import Path

from zhengyun.client import output
from zhengyun.client.http import Api, ApiError, ClientError, Unreachable
from zhengyun.client.i18n import _, activate, choose_language
from zhengyun.client.schema import build_body, describe, read_resources, writable_fields

# Longer extras (a placement decision record) would bury the message; --json has them.
LONG_EXTRA = 200
STANDARD_PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "errors"}


def main(argv=None, stdout=sys.stdout, stderr=sys.stderr, environ=os.environ):
    args = _parser().parse_args(argv)
    activate(choose_language(args.lang, environ))
    try:
        return Command(args, stdout, environ).run()
    except ClientError as error:
        print(_("error: %(message)s") % {"message": error}, file=stderr)
        return 2
    except Unreachable as error:
        print(_("error: %(message)s") % {"message": error}, file=stderr)
        return 3
    except ApiError as error:
        print(output.raw(error.problem) if args.json else _problem_text(error), file=stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(
        prog="zhengyun cloud",
        description="Manage a department's resources on a Zhengyun platform through its API. "
        "Set ZHENGYUN_URL and ZHENGYUN_TOKEN (a personal API token), then for example: "
        "zhengyun cloud resources; zhengyun cloud instances list; "
        "zhengyun cloud instances create --help; "
        "zhengyun cloud instances create name=web-1 flavour=2 image=1 --wait",
    )
    parser.add_argument("--url", help="the platform's address (or ZHENGYUN_URL)")
    parser.add_argument("--token-file", help="a file holding the API token (or ZHENGYUN_TOKEN)")
    parser.add_argument("--ca-file", help="CA certificates to trust for HTTPS")
    parser.add_argument("--lang", help="zh-hans (default) or en")
    parser.add_argument("--json", action="store_true", help="print the API's JSON as it came")
    parser.add_argument("--columns", help="comma-separated columns for lists")
    parser.add_argument("--all", action="store_true", help="list every page, not the first")
    parser.add_argument(
        "--wait", action="store_true", help="wait until the resource has settled (or is gone)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds --wait waits")
    parser.add_argument("--fields", action="store_true", help="describe the verb's fields")
    parser.add_argument("resource", nargs="?", help="a resource, or 'resources' for the list")
    parser.add_argument("verb", nargs="?", help="list, show, create, update, delete or an action")
    parser.add_argument("words", nargs="*", help="the object's id, then field=value pairs")
    return parser


class Command:
    def __init__(self, args, stdout, environ):
        self.args = args
        self.out = stdout
        token = environ.get("ZHENGYUN_TOKEN", "")
        if args.token_file:
            try:
                token = Path(args.token_file).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ClientError(
                    _("cannot read the token file: %(reason)s") % {"reason": error.strerror}
                ) from None
        self.api = Api(
            args.url or environ.get("ZHENGYUN_URL", ""),
            token,
            choose_language(args.lang, environ),
            ca_file=args.ca_file,
        )

    def run(self):
        resources = read_resources(self.api.call("GET", "/api/schema/", query={"format": "json"}))
        name = self.args.resource
        if not name or name == "resources":
            return self._list_resources(resources)
        resource = resources.get(name)
        if resource is None:
            raise ClientError(
                _("no resource called %(name)s; see: zhengyun cloud resources") % {"name": name}
            )
        verb = self.args.verb
        if not verb:
            return self._list_verbs(resource)
        operation = resource.verbs.get(verb)
        if operation is None:
            raise ClientError(
                _("%(resource)s has no verb %(verb)s; it takes: %(verbs)s")
                % {"resource": name, "verb": verb, "verbs": ", ".join(sorted(resource.verbs))}
            )
        if self.args.fields:
            return self._describe(operation)
        words = list(self.args.words)
        path = operation.path
        if operation.needs_id:
            if not words or "=" in words[0]:
                raise ClientError(_("%(verb)s needs the object's id first") % {"verb": verb})
            # Quoted whole: an id such as "../.." must not reach another endpoint.
            path = path.replace("{id}", urllib.parse.quote(words.pop(0), safe=""))
        if operation.method == "GET":
            return self._get(operation, path, words, listing=verb == "list")
        body = build_body(operation, words) if operation.body is not None else None
        if body is None and words:
            raise ClientError(_("%(verb)s takes no fields") % {"verb": verb})
        result = self.api.call(operation.method, path, body=body)
        if self.args.wait:
            if operation.method == "DELETE":
                result = self._wait_gone(resource, path)
            else:
                result = self._wait_settled(resource, result)
        if result is not None:
            self._show(result)
        if isinstance(result, dict) and result.get("status") == "error":
            return 1
        return 0

    def _get(self, operation, path, words, listing):
        query = {}
        for word in words:
            key, sep, value = word.partition("=")
            if not sep or key not in operation.filters:
                raise ClientError(
                    _("unknown filter %(word)s; this takes: %(filters)s")
                    % {"word": word, "filters": ", ".join(operation.filters) or "-"}
                )
            query[key] = value
        page = self.api.call("GET", path, query=query)
        if not listing or not isinstance(page, dict) or "results" not in page:
            self._show(page)
            return 0
        rows = list(page["results"])
        while self.args.all and page.get("next"):
            page = self.api.call("GET", page["next"])
            rows.extend(page["results"])
        if self.args.json:
            print(output.raw(rows), file=self.out)
            return 0
        columns = self.args.columns.split(",") if self.args.columns else None
        print(output.table(rows, columns), file=self.out)
        if len(rows) < page.get("count", 0):
            print(
                _("%(shown)s of %(count)s shown; --all lists every one")
                % {"shown": len(rows), "count": page["count"]},
                file=self.out,
            )
        return 0

    def _wait_settled(self, resource, result):
        show = resource.verbs.get("show")
        if not isinstance(result, dict) or "id" not in result or show is None:
            return result
        deadline = time.monotonic() + self.args.timeout
        path = show.path.replace("{id}", str(result["id"]))
        while _unsettled(result.get("status")):
            if time.monotonic() > deadline:
                raise ClientError(_("still %(status)s after --timeout") % result)
            time.sleep(0.5)
            result = self.api.call("GET", path)
        return result

    def _wait_gone(self, resource, path):
        if resource.verbs.get("show") is None:
            return None
        deadline = time.monotonic() + self.args.timeout
        current = {"status": "deleting"}
        while time.monotonic() < deadline:
            try:
                current = self.api.call("GET", path)
            except ApiError as error:
                if error.status == 404:
                    return None
                raise
            if not _unsettled(current.get("status")):
                return current
            time.sleep(0.5)
        raise ClientError(_("still %(status)s after --timeout") % current)

    def _show(self, value):
        print(output.raw(value) if self.args.json else output.record(value), file=self.out)

    def _list_resources(self, resources):
        # Verbs are listed whole, never cut to a column's width.
        names = [k for k, r in resources.items() if "/" not in k or resources.get(r.name) is not r]
        width = max(map(len, names), default=0)
        for name in sorted(names):
            print(f"{name:<{width}}  {' '.join(sorted(resources[name].verbs))}", file=self.out)
        return 0

    def _list_verbs(self, resource):
        summaries = {o.summary for o in resource.verbs.values() if o.summary}
        if len(summaries) == 1:  # the viewset's description, the same for every verb
            print(summaries.pop().split("\n\n")[0], file=self.out)
        width = max(map(len, resource.verbs))
        for verb, operation in sorted(resource.verbs.items()):
            print(f"{verb:<{width}}  {operation.method:<6} {operation.path}", file=self.out)
        return 0

    def _describe(self, operation):
        fields = writable_fields(operation.body)
        required = set((operation.body or {}).get("required", ()))
        rows = [
            {
                "field": name,
                "type": describe(schema),
                "required": _("yes") if name in required else "",
                "meaning": schema.get("description") or schema.get("title") or "",
            }
            for name, schema in fields.items()
        ]
        rows += [{"field": name, "type": _("filter")} for name in operation.filters]
        columns = ["field", "type", "required", "meaning"]
        print(output.table(rows, columns, limit=None), file=self.out)
        return 0


def _unsettled(status):
    # Transitional states are named as actions under way: building, deleting, attaching…
    return isinstance(status, str) and (status.endswith("ing") or status == "pending")


def _problem_text(error):
    problem = error.problem
    lines = [f"{problem.get('title', '')} ({error.status})".strip()]
    detail = problem.get("detail")
    if detail and detail != problem.get("title"):
        lines.append(str(detail))
    for item in problem.get("errors") or ():
        field = item.get("field")
        lines.append(f"  {field}: {item.get('message')}" if field else f"  {item.get('message')}")
    for key, value in problem.items():
        if key not in STANDARD_PROBLEM_KEYS:
            text = output.full(value)
            if len(text) > LONG_EXTRA:
                text = _("(--json shows it whole)")
            lines.append(f"  {key}: {text}")
    if problem.get("instance"):
        lines.append(problem["instance"])
    return "\n".join(lines)
