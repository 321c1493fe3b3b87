"""Native launchers for the services kgstore runs on (Neo4j, Redis) on machines without Docker.

Their static inputs (Maven pom, neo4j.conf template, OS package list) live in
`docker/native/`; this package drives them: provision, start, wait, report, stop.
"""
