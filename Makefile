# wgforward.portforward: development and test entry points.
# `make test` is the one command CI (.ci/run) and the README use.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
VBIN := $(CURDIR)/$(VENV)/bin
COLL_ROOT := $(CURDIR)/.collections
COLL_LINK := $(COLL_ROOT)/ansible_collections/wgforward/portforward
# Tests import ansible_collections.wgforward.portforward.* through the symlink farm;
# no sys.path tricks in the tests themselves.
TEST_ENV := PATH="$(VBIN):$$PATH" PYTHONPATH="$(COLL_ROOT)" ANSIBLE_COLLECTIONS_PATH="$(COLL_ROOT)"

# Debian packages the tests need: nft (ruleset validation), unshare (util-linux)
# and ip (iproute2) for `unshare -rn nft -c -f`, wg (real-key unit test),
# shellcheck (ansible-test sanity), dot (graphviz: the inventory's SVG picture).
APT_PACKAGES := nftables iproute2 util-linux wireguard-tools shellcheck graphviz
APT_COMMANDS := nft ip unshare wg shellcheck dot
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The stamp is keyed on the requirement files' content: editing them reinstalls.
REQ_FILES := tests/requirements.txt requirements.txt
REQ_HASH := $(shell cat $(REQ_FILES) 2>/dev/null | sha256sum | cut -c1-16)
DEPS_STAMP := $(VENV)/.deps-$(REQ_HASH)

VERSION := $(shell awk '$$1 == "version:" {print $$2; exit}' galaxy.yml)
TARBALL := dist/wgforward-portforward-$(VERSION).tar.gz
SANITY_ROOT := $(CURDIR)/.sanity
SANITY_DIR := $(SANITY_ROOT)/ansible_collections/wgforward/portforward
SANITY_PYTHON ?= 3.11
SANITY_ARGS ?=
ANSIBLE_TEST_PIP ?= 24.2
GET_PIP_SHIM := $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py

.PHONY: test deps apt-deps collection-path unit offline sanity lint build install-check bench bench-wire bench-throughput bench-controller bench-render bench-scale clean render explain golden \
	example molecule demo demo-destroy docker-image changelog specs diagram

test: deps collection-path unit offline lint install-check molecule

# The two offline playbooks on the example inventory: they must run with no host reachable.
RENDER_DIR ?= $(CURDIR)/rendered
render: deps collection-path
	$(TEST_ENV) ansible-playbook -i inventory.example playbooks/render.yml -e wgpf_render_dir=$(RENDER_DIR)

explain: deps collection-path
	$(TEST_ENV) ansible-playbook -i inventory.example playbooks/explain.yml

# The main job of the README: the example inventory's techniques, then every host's files.
example: deps collection-path
	@$(TEST_ENV) ansible-playbook -i inventory.example playbooks/explain.yml
	@$(TEST_ENV) ansible-playbook -i inventory.example playbooks/render.yml -e wgpf_render_dir=$(RENDER_DIR) >/dev/null
	@cd $(RENDER_DIR) && for f in $$(find . -type f ! -name '*.svg' | sort); do printf '\n===== %s\n' "$${f#./}"; cat "$$f"; done
	@printf '\nRendered every host of inventory.example under %s\n' "$(RENDER_DIR)"

# Molecule scenarios, one per technique (every molecule/<name>/ with a molecule.yml but the
# demo). They share container names, so they run one after the other; each runs in full
# (create .. idempotence, verify, restart, verify .. destroy) and the target fails at the
# end if any failed, with the time each took. SCENARIO=<name> runs one.
# MOLECULE_GLOB names the one scenario, as for the demo (below): no "glob failed" CRITICAL line.
SCENARIOS := $(filter-out demo,$(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
SCENARIO ?= $(SCENARIOS)
# The managed hosts' Debian release: 12 (bookworm, the default) or 13 (trixie).
DEBIAN ?= 12
export WGPF_TEST_IMAGE := wgpf-test:debian$(DEBIAN)
docker-image: deps
	bash molecule/resources/ensure-docker.sh
	bash molecule/resources/image/build.sh $(DEBIAN)

# A failed scenario's step and first error lines are repeated after the summary: CI shows the tail.
molecule: deps collection-path docker-image
	@failed=""; summary=""; logs=$$(mktemp -d); trap 'rm -rf "$$logs"' EXIT; \
	for s in $(SCENARIO); do \
	  start=$$(date +%s); \
	  if $(TEST_ENV) MOLECULE_GLOB="molecule/$$s/molecule.yml" molecule test -s "$$s" 2>&1 | tee "$$logs/$$s.log"; \
	  then r=passed; else r=FAILED; failed="$$failed $$s"; fi; \
	  line=$$(printf '  %-24s %s in %ss' "$$s" "$$r" "$$(( $$(date +%s) - start ))"); \
	  echo "molecule:$$line"; summary="$$summary$$line\n"; \
	done; \
	for s in $$failed; do \
	  printf '\n%s: %s\n' "$$s" "$$(grep -a -o '➜ [a-z_]*: .*Executing' "$$logs/$$s.log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')"; \
	  grep -a -E 'fatal:|FAILED!|msg:|Error|ERROR|CRITICAL|assert' "$$logs/$$s.log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-300 | head -n 8 || true; \
	done; \
	printf '\nMolecule scenarios:\n%b' "$$summary"; \
	if [ -n "$$failed" ]; then echo "molecule: failed:$$failed"; exit 1; fi

# The README's main job: inventory.example on containers (molecule/demo), site.yml applied,
# then what the private services saw from a client on the Internet side; a second site.yml
# run must change nothing, and after every container restarts the forwards must work again.
# The containers are removed at the end unless DEMO_KEEP=1.
#
# What a person sees is the techniques, site.yml's own tasks and recap, and the probes;
# the test harness's steps (containers, echo services, the second run, restarts) print one
# line each, and their whole output only when they fail. Molecule is told its one scenario
# here (MOLECULE_GLOB): the scenarios are in molecule/, not in extensions/molecule/ where
# it looks in a collection (its "should migrate" warning), and the "default" scenario it
# looks up for shared state then resolves to the demo too, so it no longer logs
# "CRITICAL 'molecule/default/molecule.yml' glob failed" (shared state stays off). Its own
# INFO lines are dropped; its warnings and errors stay.
DEMO = env $(TEST_ENV) MOLECULE_GLOB=molecule/demo/molecule.yml NO_COLOR=1 $(VBIN)/molecule
DEMO_OPTS = -s demo --no-command-borders --no-report
demo: deps collection-path docker-image
	@$(DEMO) destroy $(DEMO_OPTS) >/dev/null 2>&1 || true
	@status=0; logs=$$(mktemp -d); \
	step() { printf '%s ... ' "$$1"; shift; \
	  if "$$@" >"$$logs/step.log" 2>&1; then echo done; else echo FAILED; cat "$$logs/step.log"; return 1; fi; }; \
	{ printf '\n===== What the planner picks for inventory.example\n' \
	  && $(TEST_ENV) ansible-playbook -i inventory.example playbooks/explain.yml \
	  && printf '\n===== inventory.example on containers\n' \
	  && step "Starting public1, intermediate1, private1, private2 and a client on the Internet side" \
	       $(DEMO) create $(DEMO_OPTS) \
	  && step "Starting the echo services on the private servers" $(DEMO) prepare $(DEMO_OPTS) \
	  && printf '\n===== site.yml on the containers\n' \
	  && ANSIBLE_DISPLAY_SKIPPED_HOSTS=false $(DEMO) converge $(DEMO_OPTS) 2>&1 | sed -u '/^INFO /d' \
	  && printf '\n===== What the private services saw\n' \
	  && $(TEST_ENV) $(VBIN)/python molecule/resources/show_seen.py --scenario molecule/demo \
	  && printf '\n===== A second run of site.yml must change nothing\n' \
	  && step "Running site.yml again" $(DEMO) idempotence $(DEMO_OPTS) \
	  && echo "idempotence: the second site.yml run reported changed=0 on every host" \
	  && printf '\n===== Every container restarted (a reboot, as far as Docker goes)\n' \
	  && step "Restarting every container" $(DEMO) side-effect $(DEMO_OPTS) \
	  && $(TEST_ENV) $(VBIN)/python molecule/resources/show_seen.py --scenario molecule/demo; } || status=$$?; \
	rm -rf "$$logs"; \
	if [ "$(DEMO_KEEP)" = 1 ]; then \
	  echo "demo: containers kept (docker exec -it public1 bash); remove them with: make demo-destroy"; \
	else $(DEMO) destroy $(DEMO_OPTS) >/dev/null 2>&1 || true; fi; \
	if [ $$status = 0 ]; then echo "demo: passed"; else echo "demo: FAILED"; fi; \
	exit $$status

demo-destroy: deps collection-path
	$(DEMO) destroy $(DEMO_OPTS)

offline: deps collection-path
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(TEST_ENV) ansible-playbook -i inventory.example playbooks/explain.yml >"$$tmp/explain.out"; \
	grep -q '"web (public1 -> private1): policy_routing"' "$$tmp/explain.out"; \
	$(TEST_ENV) ansible-playbook -i inventory.example playbooks/render.yml -e wgpf_render_dir="$$tmp/rendered" >/dev/null; \
	for f in public1/etc/wireguard/wg0.conf public1/etc/wgpf/wgpf.nft intermediate1/etc/wgpf/routes.sh \
	         private1/etc/wgpf/routes.sh private2/etc/wireguard/wg0.conf inventory.mmd; do test -s "$$tmp/rendered/$$f"; done; \
	for t in "$$tmp"/rendered/*/etc/wgpf/wgpf.nft; do unshare -rn nft -c -f "$$t"; done; \
	echo "offline: explain.yml and render.yml ran on inventory.example; every rendered table passes nft -c"

deps: apt-deps $(DEPS_STAMP)

apt-deps:
	@missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $(APT_PACKAGES) (missing:$$missing)"; \
	  extra=""; case "$$missing" in *python3-venv*) extra="python3-venv";; esac; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(APT_PACKAGES) $$extra </dev/null >/dev/null; \
	fi

# When the package index cannot be reached but the machine's own Python already has the
# test tools, fall back to a venv that sees them (and say so) rather than fail offline.
$(DEPS_STAMP): $(REQ_FILES)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@if ! $(VENV)/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements.txt -r requirements.txt; then \
	  if $(PYTHON) -c 'import ansible.release, netaddr, pytest, yaml' 2>/dev/null; then \
	    echo "deps: the package index is unreachable; using $(PYTHON)'s installed packages instead" >&2; \
	    rm -rf $(VENV); $(PYTHON) -m venv --system-site-packages $(VENV); \
	    $(VENV)/bin/python -c 'import ansible.release as r, netaddr, pytest; print("deps: ansible-core", r.__version__)'; \
	  else exit 1; fi; \
	fi
	@rm -f $(VENV)/.deps-*
	@touch $@

collection-path:
	@mkdir -p $(dir $(COLL_LINK))
	@if [ "$$(readlink $(COLL_LINK) 2>/dev/null)" != "../../.." ]; then rm -rf $(COLL_LINK); ln -s ../../.. $(COLL_LINK); fi

unit: collection-path
	$(TEST_ENV) $(VBIN)/python -m pytest tests/unit

# Rewrite tests/golden/ (every file rendered for inventory.example and each Molecule inventory)
# from what the code renders now; review `git diff tests/golden` before committing it.
golden: collection-path
	$(TEST_ENV) WGPF_GOLDEN_UPDATE=1 $(VBIN)/python -m pytest -q tests/unit/test_golden.py

# Rewrite every role's meta/argument_specs.yml from hacking/argument_specs.yml, their one source
# (the three roles differ only in name and summary); tests/unit/test_argument_specs.py fails
# when a role's file is not what the source makes, so `make test` need not run this.
specs:
	$(VBIN)/python hacking/argument_specs.py

# Redraw inventory.example's picture: docs/inventory.example.{mmd,svg} and the README's Mermaid
# block (tests/unit/plugins/module_utils/test_diagram.py fails while they differ from the code's).
diagram: deps collection-path
	$(TEST_ENV) $(VBIN)/python hacking/diagram.py

# ansible-test needs its cwd inside .../ansible_collections/<ns>/<name>/ and resolves
# symlinks (os.getcwd()), so the symlink farm does not do: copy the files git knows
# (tracked + untracked, not ignored) into .sanity/, give the copy its own git repo
# (ansible-test lists files with git from the nearest .git) and run there. Each sanity test
# gets its own ansible-test-managed venv with pinned requirements (--venv --requirements).
sanity: deps $(GET_PIP_SHIM)
	@rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -z -co --exclude-standard -- . ':!tests/golden' | tar --null -T - -cf - | tar -C $(SANITY_DIR) -xf -; \
	else \
	  tar --exclude=./.venv --exclude=./.collections --exclude=./tests/golden --exclude=./.sanity --exclude=./dist \
	      --exclude=./rendered --exclude=./tests/output -cf - . | tar -C $(SANITY_DIR) -xf -; \
	fi
	@# tests/golden is rendered output (nft tables start with #!/usr/sbin/nft -f), not collection code.
	@# Own (empty) git repo: otherwise ansible-test finds the outer repo, where .sanity/ is ignored.
	@git -C $(SANITY_DIR) init -q
	cd $(SANITY_DIR) && PATH="$(VBIN):$$PATH" ansible-test sanity --venv --requirements \
	  --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

# ansible-test bootstraps pip into each of its venvs with get-pip.py downloaded from
# ci-files.testing.ansible.com, which is unreachable here. It uses a cached copy at
# this path when present, run as `python get_pip.py [pip options] pip==X --no-setuptools
# --no-wheel`: this stand-in does the same with the stdlib's ensurepip and PyPI.
$(GET_PIP_SHIM):
	@mkdir -p $(dir $@)
	@printf '%s\n' \
	  '# Stand-in for get-pip.py, written by the wgforward.portforward Makefile.' \
	  'import subprocess, sys' \
	  'args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]' \
	  'subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])' \
	  'subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)' > $@.tmp
	@mv $@.tmp $@

# Plain ansible-lint, as a fresh clone runs it (no ANSIBLE_COLLECTIONS_PATH: it installs the
# collection from the clone into ./.ansible/ itself, see .ansible-lint), but with the schemas
# it was released with: not offline, it would otherwise fetch newer ones once a day into its
# own package folder, so a lint result could change with no change here. Then the changelog
# fragments must parse and CHANGELOG.rst must be what they render to (`make changelog`).
lint: deps
	PATH="$(VBIN):$$PATH" ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 ansible-lint
	PATH="$(VBIN):$$PATH" antsibull-changelog lint
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(call render_changelog,$$tmp); \
	if ! cmp -s "$$tmp/CHANGELOG.rst" CHANGELOG.rst; then \
	  { diff -u CHANGELOG.rst "$$tmp/CHANGELOG.rst" || true; } | head -40; \
	  echo "lint: CHANGELOG.rst is not what changelogs/ renders to: run make changelog"; exit 1; fi; \
	echo "lint: every changelog fragment parses and CHANGELOG.rst is current"

# CHANGELOG.rst, rendered from changelogs/fragments/ by antsibull-changelog. Until a
# version is released the fragments stay where they are: `antsibull-changelog release`
# (which moves them into changelog.yaml) runs on a copy of the tracked files, laid out as
# ansible_collections/<ns>/<name> as it expects, and only CHANGELOG.rst comes back.
# $(1): a scratch folder; CHANGELOG.rst is written into it.
define render_changelog
dst="$(1)/ansible_collections/wgforward/portforward"; mkdir -p "$$dst"; \
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$$dst" -xf -; \
(cd "$$dst" && PATH="$(VBIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(1)" antsibull-changelog release \
  --version $(VERSION) --date 1970-01-01 >/dev/null); \
cp "$$dst/CHANGELOG.rst" "$(1)/CHANGELOG.rst"
endef

changelog: deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(call render_changelog,$$tmp); \
	cp "$$tmp/CHANGELOG.rst" CHANGELOG.rst; echo "changelog: CHANGELOG.rst rendered for $(VERSION) from changelogs/fragments/"

build: deps
	PATH="$(VBIN):$$PATH" ansible-galaxy collection build --force --output-path dist

# Every wgpf_* variable the installed planner accepts must be an option of each role's main
# entry point in `ansible-doc -t role --json` from the installed tarball.
define INSTALL_CHECK_ROLES
import json, sys
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
for role in ("wireguard_public", "wireguard_intermediate", "wireguard_private"):
    with open("%s/%s.json" % (sys.argv[1], role)) as handle:
        doc = json.load(handle)["wgforward.portforward." + role]
    missing = sorted(set(VOCABULARY.host_keys) - set(doc["entry_points"]["main"]["options"]))
    if missing:
        sys.exit("install-check: ansible-doc -t role %s lacks %s" % (role, ", ".join(missing)))
endef
export INSTALL_CHECK_ROLES

install-check: build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	PATH="$(VBIN):$$PATH"; \
	ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-galaxy collection install --offline --force -p "$$tmp" $(TARBALL); \
	for kind in filter module; do \
	  for f in plugins/$${kind/module/modules}/*.py; do \
	    ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-doc -t $$kind wgforward.portforward.$$(basename $$f .py) >/dev/null \
	      || { echo "install-check: ansible-doc -t $$kind fails on $$f"; exit 1; }; \
	  done; \
	done; \
	ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-playbook -i inventory.example --syntax-check wgforward.portforward.check \
	  >/dev/null; \
	for role in wireguard_public wireguard_intermediate wireguard_private; do \
	  ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-doc -t role --json wgforward.portforward.$$role >"$$tmp/$$role.json"; \
	done; \
	PYTHONPATH="$$tmp" $(VBIN)/python -c "$$INSTALL_CHECK_ROLES" "$$tmp"; \
	ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-playbook -i inventory.example wgforward.portforward.explain \
	  >"$$tmp/explain.out"; \
	grep -q '"web (public1 -> private1): policy_routing"' "$$tmp/explain.out"; \
	ANSIBLE_COLLECTIONS_PATH="$$tmp" ansible-playbook -i inventory.example wgforward.portforward.render \
	  -e wgpf_render_dir="$$tmp/rendered" >/dev/null; \
	test -s "$$tmp/rendered/public1/etc/wgpf/wgpf.nft"; \
	echo "install-check: $(TARBALL) installs, ansible-doc documents every filter and module, ansible-doc -t role shows every wgpf_* variable" \
	  "for the three roles, and wgforward.portforward.explain and .render run from the installed collection"

# Benchmarks, run on demand (not part of `make test`); each prints a table, saves JSON under
# .benchmarks/ and fails when its target is missed. benchmarks/README.md has the latest tables.
bench: deps collection-path
	$(TEST_ENV) $(VBIN)/python benchmarks/plan_bench.py

# Root: network namespaces on this machine, nft, gcc.
bench-controller: deps collection-path docker-image
	$(TEST_ENV) $(VBIN)/python benchmarks/controller_bench.py

bench-wire: deps collection-path
	$(TEST_ENV) $(VBIN)/python benchmarks/wire_bench.py

# render.yml of inventory.example: the copy-per-file playbook of an earlier commit against the working tree's.
bench-render: deps collection-path
	$(TEST_ENV) $(VBIN)/python benchmarks/render_bench.py

# Molecule labs, one scenario at a time under /tmp/wgpf-lab.lock; the image needs iperf3
# (FORCE=1 bash molecule/resources/image/build.sh rebuilds it).
bench-throughput: deps collection-path
	$(TEST_ENV) $(VBIN)/python benchmarks/throughput_bench.py $(if $(SCENARIO_BENCH),--scenarios $(SCENARIO_BENCH))

# site.yml as the inventory grows (hosts: a hub's spokes; forwards on one public server), Ansible's
# defaults against benchmarks/README.md's settings, check.yml at the most forwards; containers of its
# own (wgpfs-*) under /tmp/wgpf-lab.lock. GITHUBIXX=<checkout outside the repo> adds that role's arm.
SIZES ?= 3,10,30
FORWARDS ?= 10,1000,10000
SETTINGS ?= default,recommended
REPEAT ?= 3
bench-scale: deps collection-path docker-image
	$(TEST_ENV) $(VBIN)/python benchmarks/scale_bench.py --sizes '$(SIZES)' --forwards '$(FORWARDS)' \
	  --settings '$(SETTINGS)' --repeat $(REPEAT) $(if $(GITHUBIXX),--githubixx '$(GITHUBIXX)')

clean:
	rm -rf .collections .sanity dist tests/output .pytest_cache
