"""Hosts of one pool kept in the order their pool's policy prefers them (R-I4 performance).

Weighing 10,000 hosts for every decision is too slow in Python, so each pool keeps its enabled
hosts sorted by rank — best first under the policy, see ``weighers`` — in blocks of about 64.
Each block knows the most free vCPUs, memory and disk of any host in it, so a search for the
best host that fits walks the blocks in rank order and passes over a block of hosts that are
all too full after three comparisons. Under ``pack`` the fullest hosts come first and are
mostly skipped whole; under ``spread`` the emptiest come first and the first host fits.
"""

from bisect import bisect_left, bisect_right

BLOCK = 64
SAMPLE = 5


class _Block:
    """Up to 2 × BLOCK hosts, sorted by rank, with their free capacity alongside."""

    __slots__ = ("keys", "hosts", "vcpus", "memory", "disk", "max_vcpus", "max_memory", "max_disk")

    def __init__(self, keys=(), hosts=()):
        self.keys = list(keys)
        self.hosts = list(hosts)
        self.vcpus = [h.free_vcpus for h in self.hosts]
        self.memory = [h.free_memory_mb for h in self.hosts]
        self.disk = [h.free_disk_gb for h in self.hosts]
        self._refresh()

    def _refresh(self):
        self.max_vcpus = max(self.vcpus, default=-1)
        self.max_memory = max(self.memory, default=-1)
        self.max_disk = max(self.disk, default=-1)

    def insert(self, key, host):
        at = bisect_left(self.keys, key)
        vcpus, memory, disk = host.free_vcpus, host.free_memory_mb, host.free_disk_gb
        self.keys.insert(at, key)
        self.hosts.insert(at, host)
        self.vcpus.insert(at, vcpus)
        self.memory.insert(at, memory)
        self.disk.insert(at, disk)
        self.max_vcpus = max(self.max_vcpus, vcpus)
        self.max_memory = max(self.max_memory, memory)
        self.max_disk = max(self.max_disk, disk)

    def remove(self, key):
        at = bisect_left(self.keys, key)
        del self.keys[at], self.hosts[at]
        vcpus, memory, disk = self.vcpus.pop(at), self.memory.pop(at), self.disk.pop(at)
        if vcpus == self.max_vcpus or memory == self.max_memory or disk == self.max_disk:
            self._refresh()

    def split(self):
        """Move the second half into a new block and return it."""
        half = len(self.keys) // 2
        tail = _Block(self.keys[half:], self.hosts[half:])
        for column in (self.keys, self.hosts, self.vcpus, self.memory, self.disk):
            del column[half:]
        self._refresh()
        return tail


class RankedHosts:
    """A pool's enabled hosts by rank key (smaller is better), with a search for the best that
    fit. A host's free capacity is read when it is added: take it out before its figures
    change and put it back after."""

    def __init__(self):
        self._blocks = []
        self._firsts = []
        self._keys = {}

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        for block in self._blocks:
            yield from block.hosts

    def add(self, host, key):
        if host.name in self._keys:
            raise ValueError(f"host {host.name} is already ranked")
        self._keys[host.name] = key
        if not self._blocks:
            self._blocks.append(_Block())
            self._firsts.append(key)
        at = max(0, bisect_right(self._firsts, key) - 1)
        block = self._blocks[at]
        block.insert(key, host)
        self._firsts[at] = block.keys[0]
        if len(block.keys) > 2 * BLOCK:
            tail = block.split()
            self._blocks.insert(at + 1, tail)
            self._firsts.insert(at + 1, tail.keys[0])

    def discard(self, host):
        key = self._keys.pop(host.name)
        at = bisect_right(self._firsts, key) - 1
        block = self._blocks[at]
        block.remove(key)
        if block.keys:
            self._firsts[at] = block.keys[0]
        else:
            del self._blocks[at], self._firsts[at]

    def key(self, host):
        return self._keys[host.name]

    def most_free(self):
        """The largest free vCPUs, memory and disk on any host (not necessarily one host)."""
        blocks = self._blocks
        return (
            max((b.max_vcpus for b in blocks), default=0),
            max((b.max_memory for b in blocks), default=0),
            max((b.max_disk for b in blocks), default=0),
        )

    def search(self, request, want, excluded=frozenset()):
        """The best ``want`` hosts with room for ``request`` as ``(key, host)`` pairs, best
        first, passing over hosts named in ``excluded``; and how many hosts the search found
        too full, with a few of their names. Hosts ranked after the last one found are not
        looked at: none of them could have won."""
        need_vcpus, need_memory, need_disk = request.vcpus, request.memory_mb, request.disk_gb
        found = []
        too_full = 0
        sample = []
        for block in self._blocks:
            hosts = block.hosts
            if (
                block.max_memory < need_memory
                or block.max_vcpus < need_vcpus
                or block.max_disk < need_disk
            ):
                # The whole block is too full: the common case under pack, kept cheap.
                if excluded:
                    hosts = [host for host in hosts if host.name not in excluded]
                too_full += len(hosts)
                if len(sample) < SAMPLE:
                    sample.extend(host.name for host in hosts[: SAMPLE - len(sample)])
                continue
            fitting = [
                at
                for at, (vcpus, memory, disk) in enumerate(
                    zip(block.vcpus, block.memory, block.disk, strict=True)
                )
                if memory >= need_memory and vcpus >= need_vcpus and disk >= need_disk
            ]
            if excluded:
                fitting = [at for at in fitting if hosts[at].name not in excluded]
            fitting = fitting[: want - len(found)]
            # Hosts after the last one needed are not looked at: they rank lower.
            looked_at = fitting[-1] + 1 if len(found) + len(fitting) == want else len(hosts)
            excluded_here = (
                sum(1 for host in hosts[:looked_at] if host.name in excluded) if excluded else 0
            )
            too_full += looked_at - len(fitting) - excluded_here
            if len(sample) < SAMPLE:
                taken = set(fitting)
                for at in range(looked_at):
                    if at not in taken and not (excluded and hosts[at].name in excluded):
                        sample.append(hosts[at].name)
                        if len(sample) == SAMPLE:
                            break
            found.extend((block.keys[at], hosts[at]) for at in fitting)
            if len(found) == want:
                break
        return found, too_full, sample
