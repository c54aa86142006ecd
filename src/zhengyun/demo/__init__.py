"""The demo region: a fictional province (示范省) with prefectures, counties, departments,
service providers and a user for every role, for newcomers and for benchmarks."""
