"""The load test's simulated people, sent by locust: `make loadtest` (docs/loadtest.md).

Three kinds of people, waiting 1-5 s between actions: visitors who browse, filter and search
the forward plan and the directory and open entries and profiles; suppliers (a VCSE's admin)
who sign in, then also ask questions, express interest and edit their profile; and buyers (an
ordinary member of a commissioner, who needs no two-step sign-in) who sign in, look at their
plan and open an entry's matches. What each does is in portal/bench/loadscenarios.py.

At the end a table gives requests a second and p50/p95/p99 for each page type against its
target; locust exits with 1 when any request failed.
"""
import itertools
import random

from locust import HttpUser, between, events

from portal.bench.loadscenarios import (
    BUYER_TASKS, SUPPLIER_TASKS, VISITOR_TASKS, Browser, account_email, sign_in, sign_in_again,
    target_ms,
)

SEED = 2026
_numbers = {"supplier": itertools.count(), "buyer": itertools.count(), "visitor": itertools.count()}


def _send(user):
    """Requests through locust's session, failed when the status or the page is not right."""
    def send(method, url, name, data, check):
        with user.client.request(method, url, name=name, data=data,
                                 catch_response=True) as response:
            problem = f"HTTP {response.status_code}" if response.status_code >= 400 else None
            problem = problem or (check(response.text, response.url) if check else None)
            if problem:
                response.failure(problem)
                return None
            response.success()
            return response.text
    return send


def _tasks(table):
    return {(lambda user, action=action: action(user.browser)): weight
            for action, weight in table}


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 5)
    kind = "visitor"
    home = None

    def on_start(self):
        number = next(_numbers[self.kind])
        self.browser = Browser(_send(self), random.Random(f"{SEED}-{self.kind}-{number}"))
        self.email = account_email(self.kind, number)
        if self.home:
            sign_in(self.browser, self.email, self.home)


class Visitor(Person):
    weight = 3
    tasks = _tasks(VISITOR_TASKS)


class Supplier(Person):
    weight = 2
    kind, home = "supplier", "/dashboard"
    tasks = {**_tasks(SUPPLIER_TASKS),
             (lambda user: sign_in_again(user.browser, user.email, user.home)): 1}


class Buyer(Person):
    weight = 1
    kind, home = "buyer", "/forward-plan/manage"
    tasks = {**_tasks(BUYER_TASKS),
             (lambda user: sign_in_again(user.browser, user.email, user.home)): 1}


@events.quitting.add_listener
def report(environment, **_kwargs):
    """Print the table, and fail the run when any request failed."""
    stats = environment.stats
    print(f"\n{'page type':<24}{'requests':>9}{'failed':>7}{'req/s':>7}{'p50':>7}{'p95':>7}"
          f"{'p99':>7}{'target':>8}  ")
    for (name, method), entry in sorted(stats.entries.items()):
        p95 = entry.get_response_time_percentile(0.95)
        verdict = "ok" if p95 < target_ms(name) else "MISSED"
        print(f"{name:<24}{entry.num_requests:>9}{entry.num_failures:>7}"
              f"{entry.total_rps:>7.1f}{entry.get_response_time_percentile(0.5):>7.0f}"
              f"{p95:>7.0f}{entry.get_response_time_percentile(0.99):>7.0f}"
              f"{target_ms(name):>6}ms  {verdict}")
    total = stats.total
    print(f"{'all':<24}{total.num_requests:>9}{total.num_failures:>7}{total.total_rps:>7.1f}"
          f"{total.get_response_time_percentile(0.5):>7.0f}"
          f"{total.get_response_time_percentile(0.95):>7.0f}"
          f"{total.get_response_time_percentile(0.99):>7.0f}")
    print(f"errors: {total.num_failures} failed requests, "
          f"{len(environment.runner.exceptions)} exceptions in tasks")
    if total.num_failures or environment.runner.exceptions:
        environment.process_exit_code = 1
