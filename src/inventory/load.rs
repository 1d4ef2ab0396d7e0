//! Reading AWS CLI JSON documents into an [`super::Inventory`].
