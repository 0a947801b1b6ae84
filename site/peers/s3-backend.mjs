// s3rver 3.7.1 as the demo site runs it, behind s3-front.mjs (which checks the signatures), with
// two repairs:
//   - an object or a part is written to a temporary file and renamed into place only once its
//     body arrived whole. s3rver writes straight over the old file, so an upload that broke off
//     (or that the front stopped because the body did not match its declared digest) left a
//     truncated object under the old ETag, and the request never ended (pipe() does not pass a
//     client's abort on), holding its file open;
//   - no request timeout: Node's default (5 minutes) cut multi-GiB uploads.
//
// usage: node s3-backend.mjs --address ADDRESS --port PORT --directory DIR
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const S3Error = require('s3rver/lib/models/error');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const address = option('--address', '127.0.0.1');
const port = Number(option('--port', '9101'));
const directory = option('--directory');
if (!directory) {
  console.error('usage: node s3-backend.mjs --address ADDRESS --port PORT --directory DIR');
  process.exit(2);
}
fs.mkdirSync(directory, { recursive: true });

// Writes CONTENT (a Buffer or a stream) to FILE only if all of it arrives; returns its size and MD5.
async function writeWhole(file, content) {
  const tmp = `${file}.${crypto.randomBytes(6).toString('hex')}.incomplete`;
  const md5 = crypto.createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      await fsp.writeFile(tmp, content);
    } else {
      await pipeline(content, new Transform({
        transform(chunk, encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }), fs.createWriteStream(tmp));
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  return { size, md5: md5.digest('hex') };
}

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fsp.mkdir(path.dirname(objectPath), { recursive: true });
  const { size, md5 } = await writeWhole(objectPath, object.content);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};

FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const uploadDir = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  // s3rver made the directory of an unknown (or just aborted) upload afresh.
  if (!fs.existsSync(path.join(uploadDir, 'key'))) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, ' +
      'or the upload may have been aborted or completed.', { UploadId: uploadId });
  }
  const partPath = path.join(uploadDir, partNumber.toString());
  const { size, md5 } = await writeWhole(partPath, content);
  await fsp.writeFile(`${partPath}.md5`, md5);
  return { size, md5 };
};

const s3rver = new S3rver({ address, port, directory, silent: true });
const server = http.createServer({ requestTimeout: 0 });
server.on('request', s3rver.callback());
server.listen(port, address, () => console.log(`s3rver ${require('s3rver/package.json').version} on ${address}:${port}, data in ${directory}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
