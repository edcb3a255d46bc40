"""A faithful, deterministic stand-in for Octave's API, for tests, benchmarks and demos.

Nobody reaches Octave from a test. The simulator answers the way Octave's documentation
describes, with latency, rate limits, credits, faults, async jobs and callbacks under the
caller's control. It is a plain ASGI app: use it in process through ``sim.transport()``,
or over loopback HTTP (``octave-frames simulator`` serves one from the shell)::

    from octave_frames.simulator import Simulator, serve

    sim = Simulator(latency=(0, 0), rate=10, burst=5)
    with serve(sim) as base_url:
        ...  # point the client at base_url with api key "sim-key"
    assert sim.counters.billed == sim.counters.unique_billed  # nothing paid twice

Endpoints (key ``sim-key`` in the ``api_key`` header; agents ``ca_…``, workflows ``caw_…``):

- ``POST /api/v2/agents/sequence/run``: the Sequence Agent, answered after its latency.
- ``POST /api/v2/agents/<name>/run`` for ``enrich-person``, ``enrich-company``,
  ``qualify-person``, ``qualify-company``, ``call-prep``, ``generate-content``,
  ``prospector`` and ``context``: the same envelope and pipeline; ``data`` as Octave
  documents each (see ``_profiles`` and ``_briefs``). Person agents need an email, a
  ``linkedInProfile`` or ``firstName`` with a company; company agents ``companyDomain``
  or ``companyName``; ``prospector`` ``companyDomain`` and ``limit`` 1-1000 (default 10);
  ``context`` a ``query``; else 400 naming the field. Facts hash from who the contact
  is, so agents agree on a person or a company; ``.invalid`` domains (and
  ``not_found_rate`` of contacts, or of prospector domains) are ``found: false``, not
  billed (prospector: ``data.contacts == []``).
- ``GET /api/v2/api-key/validate``: the key check and the credit balance.
- ``POST /api/v2/async/agent/run`` (flat inputs + ``agentOId`` + ``callbackUrl``):
  ``{"status": "pending", "requestId": "asyncReqID_…", "message", "agentOId"}``. The
  agent run is the one the id names: simulator agent ids are self-describing,
  ``ca_<type>_…`` with Octave's agent type in lower case (``ca_enrich_person_1``,
  ``ca_qualify_company_2``, ``ca_content_3``, ``ca_prospector_4``); an optional body
  field ``agentType`` (``ENRICH_PERSON``, ...) overrides it; any other ``ca_…`` id is
  the Sequence Agent (``EMAIL``). The job's result is that agent's sync answer.
- ``GET /api/v2/async/agent/run/status?requestId=…`` (or ``agentRunOId=``):
  ``{"_metadata", "data": {"requestId", "result", "error", "createdAt"}}``; ``result`` is
  null until the job is done, then the whole sync envelope or only its ``data``
  (``async_result``). Agent and headless jobs alike; unknown ids are 404.
- ``POST /api/v2/headless/generate-emails`` and ``POST /api/v2/async/headless/generate-emails``
  (+ ``callbackUrl``): sequences without a saved agent; bad enums and missing fields are
  400s naming the field and the valid values.
- ``POST /api/v2/workflows/run`` (``workflowOId``, ``callbackUrl?``, inputs):
  ``{"jobOId": "bsjob_…", "status": "pending", "message"}``; ``GET
  /api/v2/workflows/run/status?jobOId=…`` (or ``workflowRunOId=``): counts, times and,
  once done, ``output`` (one entry per node).
- ``GET /_simulator/counters`` (``?polls_by_id=1`` adds per-job polls) and ``POST
  /_simulator/reset``: no key, never billed, not counted as requests.

Every billable POST shares the same pipeline: scripted faults (``fail_next``,
``hang_next``), in-flight cap, per-key rate limit (429 + ``Retry-After``), credits (402),
injected 5xx and hangs, then billing. A job's fate (done after ``job_duration``, failed,
never finishing) and its callback's (late, twice, lost) are drawn from its request id.
Callbacks go to loopback URLs only (others, such as a no-op ``https://example.invalid``,
are counted as refused), and are retried with doubling backoff while the receiver fails.

Counters (:class:`SimulatorCounters`): ``requests``, ``agent_requests``, ``billed``,
``unique_billed``, ``duplicates`` (billed runs whose ``x-external-request-id``, or body
when absent, was billed before), ``by_status``, ``credits_remaining``, ``in_flight``,
``max_in_flight_seen``, ``submissions``, ``polls``, ``polls_by_id`` (with
``polls_per_job_max`` / ``polls_per_job_mean``), ``callbacks_sent``, ``callbacks_failed``,
``callbacks_abandoned``, ``callbacks_duplicated``, ``callbacks_lost``, ``callbacks_refused``.
"""

from __future__ import annotations

from ._config import SimulatorConfig, SimulatorCounters
from ._server import run_server, serve
from ._simulator import Simulator

__all__ = ["Simulator", "SimulatorConfig", "SimulatorCounters", "run_server", "serve"]
