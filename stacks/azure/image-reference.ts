// An image reference as Docker and registries read it, after the grammar distribution/reference
// documents (https://github.com/distribution/reference/blob/main/reference.go, "Grammar"):
//   reference := name [":" tag] ["@" digest];  name := [domain "/"] path-component ["/" path-component]*
// Repository paths are lowercase; a domain may have a port.
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

// Docker Hub's names: docker.io (what a reference without a registry means), index.docker.io
// (its legacy name) and registry-1.docker.io (where it is served); distribution/reference, normalize.go.
const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

export function isImageReference(text: string): boolean {
  return REFERENCE.test(text);
}

/**
 * The registry an image is pulled from: its first path component when that is a host (it has a
 * dot or a port, or is localhost, as distribution/reference's normalize.go decides), else Docker Hub.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const isHost = first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase();
  return isHost ? first.toLowerCase() : 'docker.io';
}

/** Whether registry credentials for `server` are the ones a pull of `image` asks for. */
export function serverServesImage(server: string, image: string): boolean {
  const wanted = registryOf(image);
  const given = server.trim().toLowerCase();
  return given === wanted || (DOCKER_HUB.includes(given) && DOCKER_HUB.includes(wanted));
}

/** Pinned: the reference names a digest, so every pull gets the same image. */
export function isPinned(image: string): boolean {
  return image.includes('@');
}
