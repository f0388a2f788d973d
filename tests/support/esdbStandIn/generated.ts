import { createRequire } from 'node:module';

/**
 * The protocol definitions the EventStoreDB client package ships (generated protobuf and grpc-js
 * service descriptors). The stand-in serves exactly these, so the client and the stand-in agree on
 * the wire format by construction. They are CommonJS without ESM named exports, hence the require.
 */
const require = createRequire(import.meta.url);

export type StreamsPb = typeof import('@eventstore/db-client/generated/streams_pb.js');
export type StreamsGrpc = typeof import('@eventstore/db-client/generated/streams_grpc_pb.js');
export type SharedPb = typeof import('@eventstore/db-client/generated/shared_pb.js');
export type ServerFeaturesPb = typeof import('@eventstore/db-client/generated/serverfeatures_pb.js');
export type ServerFeaturesGrpc = typeof import('@eventstore/db-client/generated/serverfeatures_grpc_pb.js');

export const streamsPb = require('@eventstore/db-client/generated/streams_pb.js') as StreamsPb;
export const streamsGrpc = require('@eventstore/db-client/generated/streams_grpc_pb.js') as StreamsGrpc;
export const sharedPb = require('@eventstore/db-client/generated/shared_pb.js') as SharedPb;
export const serverFeaturesPb = require('@eventstore/db-client/generated/serverfeatures_pb.js') as ServerFeaturesPb;
export const serverFeaturesGrpc = require('@eventstore/db-client/generated/serverfeatures_grpc_pb.js') as ServerFeaturesGrpc;

export type ReadReq = InstanceType<StreamsPb['ReadReq']>;
export type ReadResp = InstanceType<StreamsPb['ReadResp']>;
export type AppendReq = InstanceType<StreamsPb['AppendReq']>;
export type AppendResp = InstanceType<StreamsPb['AppendResp']>;

/** google.rpc.Status and the protobuf well-known types a BatchAppend answer is built from. */
export const statusPb = require('@eventstore/db-client/generated/status_pb.js') as typeof import('@eventstore/db-client/generated/status_pb.js');
export const anyPb = require('google-protobuf/google/protobuf/any_pb.js') as typeof import('google-protobuf/google/protobuf/any_pb.js');
export const emptyPb = require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
export type BatchAppendReq = InstanceType<StreamsPb['BatchAppendReq']>;
export type BatchAppendResp = InstanceType<StreamsPb['BatchAppendResp']>;
/** Delete and Tombstone requests share their shape (options with a stream identifier). */
export type DeleteReq = InstanceType<StreamsPb['DeleteReq']> | InstanceType<StreamsPb['TombstoneReq']>;
