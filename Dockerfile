# Dockerfile — danescan on Debian 12 (docs/distributed.md). The packages are those of
# tests/install-deps, installed by running that very script, so the image, developer machines and
# CI cannot drift apart. Build: docker build -t danescan:latest .
FROM debian:bookworm
COPY tests/install-deps /usr/local/src/danescan/tests/install-deps
RUN bash /usr/local/src/danescan/tests/install-deps && rm -rf /var/lib/apt/lists/*
COPY . /usr/local/src/danescan
RUN cmake -S /usr/local/src/danescan -B /tmp/danescan-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DDANESCAN_BENCH=OFF -DDANESCAN_LAB_TESTS=OFF \
 && cmake --build /tmp/danescan-build -j "$(nproc)" \
 && cmake --install /tmp/danescan-build \
 && rm -rf /tmp/danescan-build \
 && danescan --version
WORKDIR /survey
ENTRYPOINT ["danescan"]
