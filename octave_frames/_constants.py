"""Every default and every fixed name of octave_frames, in one place."""

from __future__ import annotations

from typing import Final

__all__ = [
    "AGENT_NOT_FOUND_HINT",
    "ASYNC_HEADLESS_PATH",
    "ASYNC_RUN_PATH",
    "ASYNC_STATUS_PATH",
    "CONFIDENCE_LEVELS",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE_PATH",
    "DEFAULT_COLLECT_TIMEOUT",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_JOB_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POLL",
    "DEFAULT_RATE",
    "DEFAULT_TIMEOUT",
    "DRY_RUN_CACHED",
    "DRY_RUN_WOULD_CALL",
    "ENTITIES",
    "ENV_AGENT_OID",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "HEADLESS_PATH",
    "MAX_TEXT_CHARS",
    "NOOP_CALLBACK_URL",
    "OUTPUT_FORMATS",
    "REQUEST_FIELDS",
    "REQUEST_SOURCE",
    "SECTIONS",
    "SEQUENCE_PATH",
    "SHEET_ANSWERS",
    "SHEET_CONTACTS",
    "SHEET_EMAILS",
    "SHEET_METADATA",
    "SHEET_RUN",
    "STATUSES",
    "STEP_KEYS",
    "VALIDATE_PATH",
    "WORKFLOW_RUN_PATH",
    "WORKFLOW_STATUS_PATH",
]

DEFAULT_BASE_URL: Final = "https://app.octavehq.com"
SEQUENCE_PATH: Final = "/api/v2/agents/sequence/run"
VALIDATE_PATH: Final = "/api/v2/api-key/validate"
ASYNC_RUN_PATH: Final = "/api/v2/async/agent/run"
ASYNC_STATUS_PATH: Final = "/api/v2/async/agent/run/status"
HEADLESS_PATH: Final = "/api/v2/headless/generate-emails"
ASYNC_HEADLESS_PATH: Final = "/api/v2/async/headless/generate-emails"
WORKFLOW_RUN_PATH: Final = "/api/v2/workflows/run"
WORKFLOW_STATUS_PATH: Final = "/api/v2/workflows/run/status"

ENV_API_KEY: Final = "OCTAVE_API_KEY"
ENV_BASE_URL: Final = "OCTAVE_BASE_URL"
ENV_AGENT_OID: Final = "OCTAVE_AGENT_OID"

#: Sent as ``x-request-source`` so Octave can tell our traffic apart.
REQUEST_SOURCE: Final = "octave_frames"

# Octave agent runs take 30-60 s; public clients use 120-180 s timeouts.
DEFAULT_TIMEOUT: Final = 180.0
DEFAULT_CONCURRENCY: Final = 32
DEFAULT_RATE: Final = "60/min"
DEFAULT_MAX_RETRIES: Final = 4
DEFAULT_CACHE_PATH: Final = ".octave/cache.sqlite"
#: Async jobs: seconds between status checks of one job (Octave advises 5-10 s).
DEFAULT_POLL: Final = 7.5
#: Async jobs: seconds a job may take from submission before its row is given up.
DEFAULT_JOB_TIMEOUT: Final = 1800.0
#: ``collect(wait=True)``: seconds to wait at most by default.
DEFAULT_COLLECT_TIMEOUT: Final = 3600.0
#: Where Octave posts async results when the user hosts no receiver: a name that never
#: resolves (RFC 2606), so no contact's data reaches anyone; the results are polled.
NOOP_CALLBACK_URL: Final = "https://octave-frames-noop.invalid/callback"

#: Request fields of the Sequence Agent that come from a contact's columns.
REQUEST_FIELDS: Final = (
    "email",
    "firstName",
    "lastName",
    "jobTitle",
    "companyDomain",
    "companyName",
    "linkedInProfile",
    "crmContactId",
    "crmLeadId",
    "crmAccountId",
)
#: ``runtimeContext`` / ``runtimeInstructions`` keys: "all" plus steps 1-7.
STEP_KEYS: Final = ("all", "1", "2", "3", "4", "5", "6", "7")
OUTPUT_FORMATS: Final = ("text", "html", "markdown")
#: Email sections, in the order they are joined into ``email_{i}_text``.
SECTIONS: Final = ("greeting", "opening", "body", "closing", "cta", "ps", "signature")
ENTITIES: Final = ("product", "persona", "playbook")
CONFIDENCE_LEVELS: Final = ("LOW", "MEDIUM", "HIGH")
#: Per-row statuses, in the order the summary lists them.
STATUSES: Final = ("ok", "not_found", "pending", "failed", "invalid", "not_sent")

#: Longest field value or rendered context/instructions text sent for one row; a longer one
#: makes the row ``invalid`` (a stray 1 MB cell should neither crash a run nor be paid for).
MAX_TEXT_CHARS: Final = 100_000

#: Sheets that ``to_excel`` writes (and replaces in an existing workbook).
SHEET_CONTACTS: Final = "Contacts"
SHEET_EMAILS: Final = "Emails"
SHEET_RUN: Final = "Run"
SHEET_ANSWERS: Final = "Answers"
#: The very hidden sheet holding the JSON that lets ``read_excel`` restore dtypes.
SHEET_METADATA: Final = "_octave_frames"

#: ``octave_error`` of the rows a dry run would send, and of those the cache answers.
DRY_RUN_WOULD_CALL: Final = "dry run: would call Octave"
DRY_RUN_CACHED: Final = "dry run: answered from the cache"

#: Added to a 404 from an agent endpoint: where the user finds the id it is about.
AGENT_NOT_FOUND_HINT: Final = (
    "check the agent id: in Octave open Agents, pick the agent and copy its id (it starts "
    "with ca_; experiments with ae_), then pass it as agent= / --agent or set $OCTAVE_AGENT_OID"
)
